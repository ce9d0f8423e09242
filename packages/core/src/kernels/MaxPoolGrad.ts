import * as tf from '@tensorflow/tfjs';
import { stockKernel } from './stock.js';
import { heapF32, type TensorInfo, type WasmBackend } from './wasm_util.js';

/**
 * dL/dx of max pooling: each output's gradient goes to the first maximum of its window (the cpu
 * backend's rule). The stock wasm kernel spends ~35 ms on the seed CNN's first pool at batch 64; this
 * loop over the heap takes a few.
 */
function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo }; backend: WasmBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape, 'float32');
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const dx = heapF32(backend, out);
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = Math.max(0, yr * sh - top);
      const r1 = Math.min(h, yr * sh - top + fh);
      for (let yc = 0; yc < ow; yc++) {
        const c0 = Math.max(0, yc * sw - left);
        const c1 = Math.min(w, yc * sw - left + fw);
        const gOff = ((b * oh + yr) * ow + yc) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            let i = ((b * h + r) * w + c0) * c + ch;
            for (let col = c0; col < c1; col++, i += c) {
              const v = x[i];
              if (v > best || at < 0) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += g[gOff + ch];
        }
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
  get setupFunc() {
    return stockKernel(tf.MaxPoolGrad)?.setupFunc;
  },
};
