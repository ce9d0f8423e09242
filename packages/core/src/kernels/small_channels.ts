import { callKernel, dispose, heapF32, type TensorInfo, type WasmBackend } from './wasm_util.js';

/**
 * Convolution gradients of a layer with very few input channels (the first layer of an image net: one
 * grey channel) as matrix products. As convolutions these have one output channel (dx) or a few output
 * pixels with a huge reduction (dW), shapes XNNPACK's convolution runs at a fifth of its speed; as
 * products they are one [P x co] x [co x k*k*ci] (then scatter-add) or one [k*k*ci x P] x [P x co].
 */
/** Input channels up to which the matrix-product paths are used (mutable for A/B timing). */
export const SMALL_CHANNELS = { backpropInput: 4, backpropFilter: 4 };

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

/** dx = col2im(dy[P, co] . W[k*k*ci, co]^T). */
export function smallChannelsBackpropInput(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: Geometry): TensorInfo {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = g;
  const p = n * oh * ow;
  const kk = kh * kw * ci;
  const a = { ...dy, shape: [1, p, co] };
  const b = { ...filter, shape: [1, kk, co] };
  const t = callKernel('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: true }); // [1, P, kk]
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

/** dW = colT[k*k*ci, P] . dy[P, co], colT built directly (one shifted copy of the input per tap). */
export function smallChannelsBackpropFilter(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: Geometry): TensorInfo {
  const { n, h, w, ci, oh, ow, co, kh, kw, sh, sw, top, left } = g;
  const p = n * oh * ow;
  const kk = kh * kw * ci;
  const colT = backend.makeOutput([1, kk, p], 'float32');
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
