import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * dL/dx of max pooling: each output's gradient goes to the first maximum of its window (the cpu
 * backend's rule). The stock wasm kernel (tfjs 4.22) is slow, and wrong where a window's maximum is
 * negative: for [-4,-3,-2,-1] it sends the gradient to -4 (the cpu backend, correctly, to -1), which
 * after LeakyReLU and BatchNorm is common.
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
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: c,
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    effectiveFilterHeight: fh,
    effectiveFilterWidth: fw,
  } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape, 'float32');
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const dx = heapF32(backend, out);
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && oh * 2 <= h && ow * 2 <= w) {
    const simd = c % 4 === 0 ? simdKernels(backend) : undefined;
    if (simd) {
      if (oh * 2 !== h || ow * 2 !== w) dx.fill(0);
      simd.maxPool2x2Grad(offsetOf(backend, input), offsetOf(backend, dy), offsetOf(backend, out), n, h, w, c, oh, ow);
    } else pool2x2Grad(x, g, dx, n, h, w, c, oh, ow);
    return out;
  }
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

/**
 * The common 2x2, stride-2 pool, branch-free (the first maximum of each window gets the gradient; the
 * windows do not overlap, so every input position is written once).
 */
function pool2x2Grad(x: Float32Array, g: Float32Array, dx: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number): void {
  if (oh * 2 !== h || ow * 2 !== w) dx.fill(0);
  const row = w * c;
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++) {
        const p0 = ((b * h + 2 * yr) * w + 2 * yc) * c;
        const gOff = ((b * oh + yr) * ow + yc) * c;
        for (let ch = 0; ch < c; ch++) {
          const ia = p0 + ch;
          const ib = ia + c;
          const ic = ia + row;
          const id = ic + c;
          const va = x[ia];
          const vb = x[ib];
          const vc = x[ic];
          const vd = x[id];
          const m = Math.max(va, vb, vc, vd);
          const gv = g[gOff + ch];
          const fa = ((va === m) as unknown as number) | 0;
          let taken = fa;
          const fb = (((vb === m) as unknown as number) | 0) & (taken ^ 1);
          taken |= fb;
          const fc = (((vc === m) as unknown as number) | 0) & (taken ^ 1);
          taken |= fc;
          dx[ia] = gv * fa;
          dx[ib] = gv * fb;
          dx[ic] = gv * fc;
          dx[id] = gv * (taken ^ 1);
        }
      }
    }
  }
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
