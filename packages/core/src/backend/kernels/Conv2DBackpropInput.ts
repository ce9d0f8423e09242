import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import { flags } from '../../flags.js';
import { geometryOf, smallChannelsBackpropInput } from './small_channels.js';
import { nativeModule } from '../native/native.js';
import { callKernel, dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * dL/dx of a 2-D convolution as one forward convolution on XNNPACK (the stock wasm kernel is a naive
 * loop): dx = conv(dy dilated by the stride and padded by k-1-pad, W flipped in
 * space with its in/out channels swapped), stride 1, valid. For stride 1 the dilation is a no-op and the
 * padding is passed to XNNPACK; otherwise dy is scattered into a zeroed, padded buffer first.
 * NCHW and dilated convolutions (which tfjs cannot differentiate anyway) go to the stock kernel.
 */
function conv2DBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
    strides: number | [number, number];
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') return callStock(tf.Conv2DBackpropInput, args as never);
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const g = geometryOf(info);
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = g;
  if (ci <= flags.smallChannelGradMax) return smallChannelsBackpropInput(backend, dy, filter, g);
  const pt = kh - 1 - top;
  const pl = kw - 1 - left;
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  const pb = h + top - dh;
  const pr = w + left - dw;

  // W[kh,kw,ci,co] -> Wf[kh,kw,co,ci] = W[KH-1-kh, KW-1-kw, ci, co]: a transpose per tap (native where it loads)
  const wf = backend.makeOutput([kh, kw, co, ci], 'float32');
  const mod = nativeModule(backend);
  if (mod) {
    const [src, dst] = [offsetOf(backend, filter), offsetOf(backend, wf)];
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) mod.transpose2d(src + ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co * 4, dst + (a * kw + b) * co * ci * 4, ci, co);
  } else {
    const src = heapF32(backend, filter);
    const dst = heapF32(backend, wf);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const s0 = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co;
        const d0 = (a * kw + b) * co * ci;
        for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
      }
    }
  }

  let input = dy;
  let convPad: number[][] = [
    [0, 0],
    [pt, pb],
    [pl, pr],
    [0, 0],
  ];
  if (sh !== 1 || sw !== 1 || pt < 0 || pl < 0 || pb < 0 || pr < 0) {
    // Scatter dy into a zero buffer of the padded, dilated size; rows and columns that fall outside it
    // only ever reach dx positions outside the input, so they are dropped.
    const ph = h + kh - 1;
    const pw = w + kw - 1;
    input = backend.makeOutput([n, ph, pw, co], 'float32');
    const src = heapF32(backend, dy);
    const dst = heapF32(backend, input);
    dst.fill(0);
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < oh; y++) {
        const r = y * sh + pt;
        if (r < 0 || r >= ph) continue;
        for (let x = 0; x < ow; x++) {
          const c = x * sw + pl;
          if (c < 0 || c >= pw) continue;
          const s0 = ((b * oh + y) * ow + x) * co;
          dst.set(src.subarray(s0, s0 + co), ((b * ph + r) * pw + c) * co);
        }
      }
    }
    convPad = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
  }
  const dx = callKernel('Conv2D', backend, { x: input, filter: wf }, { strides: [1, 1], pad: convPad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
  dispose(backend, wf);
  if (input !== dy) dispose(backend, input);
  if (dx.shape[1] !== h || dx.shape[2] !== w) throw new Error(`Conv2DBackpropInput: got ${dx.shape} for input ${inputShape}`);
  return dx;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
