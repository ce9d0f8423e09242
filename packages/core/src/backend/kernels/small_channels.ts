import type * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { callKernel, dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * Convolution gradients of a layer with very few input channels (the first layer of an image net: one
 * grey channel) as matrix products. As convolutions these have one output channel (dx) or a few output
 * pixels with a huge reduction (dW), shapes XNNPACK's convolution runs at a fifth of its speed; as
 * products they are one [P x co] x [co x k*k*ci] (then scatter-add) or one [k*k*ci x P] x [P x co].
 * They apply up to flags.smallChannelGradMax input channels.
 */

/** A convolution's geometry in the short names the small-channel paths use. */
export interface Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/** The Geometry of a convolution as tfjs describes it. */
export function geometryOf(info: tf.backend_util.Conv2DInfo): Geometry {
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  return { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top: info.padInfo.top, left: info.padInfo.left };
}

/** dx = col2im(dy[P, co] . W[k*k*ci, co]^T). */
export function smallChannelsBackpropInput(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: Geometry): TensorInfo {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = g;
  const p = n * oh * ow;
  const kk = kh * kw * ci;
  const a = { ...dy, shape: [1, p, co] };
  const b = { ...filter, shape: [1, kk, co] };
  const t = callKernel('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: true }); // [1, P, kk]
  const simd = ci === 1 ? simdKernels(backend) : undefined;
  if (simd) return col2imRows(backend, simd, t, g);
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  const src = heapF32(backend, t);
  const dx = heapF32(backend, out);
  dx.fill(0);
  for (let b0 = 0; b0 < n; b0++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let s = ((b0 * oh + y) * ow + x) * kk;
        for (let i = 0; i < kh; i++) {
          const r = y * sh + i - top;
          if (r < 0 || r >= h) {
            s += kw * ci;
            continue;
          }
          for (let j = 0; j < kw; j++) {
            const c = x * sw + j - left;
            if (c < 0 || c >= w) {
              s += ci;
              continue;
            }
            const d = ((b0 * h + r) * w + c) * ci;
            for (let q = 0; q < ci; q++) dx[d + q] += src[s++];
          }
        }
      }
    }
  }
  dispose(backend, t);
  return out;
}

/** col2im for one input channel in our wasm module (scalar, but no transpose and no JS loop). */
function col2imRows(backend: WasmBackend, simd: NonNullable<ReturnType<typeof simdKernels>>, t: TensorInfo, g: Geometry): TensorInfo {
  const { n, h, w, oh, ow, kh, kw, sh, sw, top, left } = g;
  const out = backend.makeOutput([n, h, w, 1], 'float32');
  heapF32(backend, out).fill(0);
  simd.col2im1(offsetOf(backend, t), offsetOf(backend, out), n, h, w, oh, ow, kh, kw, sh, sw, top, left);
  dispose(backend, t);
  return out;
}

/** dW = colT[k*k*ci, P] . dy[P, co], colT built directly (one shifted copy of the input per tap). */
export function smallChannelsBackpropFilter(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: Geometry): TensorInfo {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = g;
  const p = n * oh * ow;
  const kk = kh * kw * ci;
  const colT = backend.makeOutput([1, kk, p], 'float32');
  if (ci === 1 && sw === 1) {
    // One input channel, unit column stride: every row of colT is a run of an input row, copied natively.
    const heap = backend.wasm.HEAPF32 as Float32Array;
    const s0 = offsetOf(backend, x) / 4;
    const d0 = offsetOf(backend, colT) / 4;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const x0 = Math.max(0, left - j);
        const x1 = Math.max(x0, Math.min(ow, w + left - j));
        let o = d0 + (i * kw + j) * p;
        for (let b0 = 0; b0 < n; b0++) {
          for (let y = 0; y < oh; y++, o += ow) {
            const r = y * sh + i - top;
            if (r < 0 || r >= h) {
              heap.fill(0, o, o + ow);
              continue;
            }
            if (x0 > 0) heap.fill(0, o, o + x0);
            const from = s0 + (b0 * h + r) * w + x0 + j - left;
            heap.copyWithin(o + x0, from, from + (x1 - x0));
            if (x1 < ow) heap.fill(0, o + x1, o + ow);
          }
        }
      }
    }
    const dW = callKernel('BatchMatMul', backend, { a: colT, b: { ...dy, shape: [1, p, co] } }, { transposeA: false, transposeB: false });
    dispose(backend, colT);
    return { ...dW, shape: [kh, kw, ci, co] };
  }
  const src = heapF32(backend, x);
  const dst = heapF32(backend, colT);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let q = 0; q < ci; q++) {
        let o = ((i * kw + j) * ci + q) * p;
        for (let b0 = 0; b0 < n; b0++) {
          for (let y = 0; y < oh; y++) {
            const r = y * sh + i - top;
            if (r < 0 || r >= h) {
              dst.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            const row = (b0 * h + r) * w;
            for (let xx = 0; xx < ow; xx++, o++) {
              const c = xx * sw + j - left;
              dst[o] = c < 0 || c >= w ? 0 : src[(row + c) * ci + q];
            }
          }
        }
      }
    }
  }
  const dW = callKernel('BatchMatMul', backend, { a: colT, b: { ...dy, shape: [1, p, co] } }, { transposeA: false, transposeB: false }); // [1, kk, co]
  dispose(backend, colT);
  return { ...dW, shape: [kh, kw, ci, co] };
}
