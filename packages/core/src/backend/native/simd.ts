import { SIMD_WASM_BASE64 } from './simd_wasm.js';
import { flags } from '../../flags.js';
import { heapModuleLoader, type WasmBackend } from '../wasm.js';

/** fer's WebAssembly SIMD kernels (simd.wat), bound to the tfjs wasm backend's own memory. */
export interface SimdKernels {
  leakyReluGrad(x: number, dy: number, dx: number, n: number, alpha: number): void;
  maxPool2x2Grad(x: number, g: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  /** Per-channel sums of a [rows, c] matrix (c % 4 == 0), and of a*(x-mean) when x != 0; acc: 24*c bytes of scratch. */
  channelSums(a: number, x: number, mean: number, rows: number, c: number, acc: number, out1: number, out2: number): void;
  /** dst[k] += src[k], k < n floats (byte offsets). */
  addInto(dst: number, src: number, n: number): void;
  /** 2x2, stride-2 max pool (NHWC, c % 4 == 0). */
  maxPool2x2(x: number, y: number, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
  /** LeakyReLU forward, 0 <= alpha <= 1. */
  leakyRelu(x: number, y: number, n: number, alpha: number): void;
  /** col2im of one input channel from t [P, kh*kw] into a zeroed dx [n, h, w, 1]. */
  col2im1(t: number, dx: number, n: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number): void;
  /** y [rows, c] = (x - m [c]) * a [c] + b [c] per channel (c % 4 == 0): BatchNorm's normalisation. */
  channelAffine(x: number, m: number, a: number, b: number, y: number, rows: number, c: number): void;
  /** y = a * b * s elementwise, n floats. */
  scaledMul(a: number, b: number, y: number, n: number, s: number): void;
}

const load = heapModuleLoader(
  SIMD_WASM_BASE64,
  (e): SimdKernels => ({
    leakyReluGrad: e.leaky_relu_grad,
    maxPool2x2Grad: e.max_pool_2x2_grad,
    channelSums: e.channel_sums,
    addInto: e.add_into,
    col2im1: e.col2im_1ch,
    leakyRelu: e.leaky_relu,
    maxPool2x2: e.max_pool_2x2,
    channelAffine: e.channel_affine,
    scaledMul: e.scaled_mul,
  }),
);

/** Our SIMD kernels for this backend, or undefined where WebAssembly SIMD is missing (then JS loops run). */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  return flags.simdKernels ? load(backend) : undefined;
}
