import * as tf from '@tensorflow/tfjs';
import { NATIVE_RELAXED_WASM_BASE64, NATIVE_WASM_BASE64 } from './native_wasm.js';
import { flags } from '../../flags.js';
import { dispose, heapF32, heapModuleLoader, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * fer's native kernels (native.c, compiled to WebAssembly SIMD), bound to the tfjs wasm backend's memory,
 * and the tensor-level functions the kernel files call:
 * - 3x3 stride-1 convolutions by Winograd's F(4x4, 3x3): the forward pass (and so the input gradient,
 *   which Conv2DBackpropInput runs as a forward convolution) and the filter gradient, each with a quarter
 *   of the direct method's multiplies; for every 3x3, stride-1, undilated NHWC convolution whose channel
 *   counts are multiples of 4 (anything else goes to XNNPACK as before);
 * - one-input-channel convolutions (a grey image's first layer) and their filter gradient;
 * - matrix products for dense layers.
 */
export interface NativeModule {
  filter(g: number, U: number, ci: number, co: number): void;
  filterBack(dU: number, dg: number, ci: number, co: number): void;
  conv(
    x: number,
    U: number,
    bias: number,
    y: number,
    V: number,
    M: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    padT: number,
    padL: number,
    tb: number,
  ): void;
  filterGrad(
    x: number,
    dy: number,
    dU: number,
    V: number,
    dM: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    co: number,
    padT: number,
    padL: number,
    tb: number,
  ): void;
  pad1(x: number, xp: number, n: number, h: number, w: number, ph: number, pw: number, top: number, left: number): void;
  conv1(xp: number, g: number, bias: number, y: number, n: number, ph: number, pw: number, oh: number, ow: number, co: number, kh: number, kw: number): void;
  filterGrad1(xp: number, dy: number, dg: number, n: number, ph: number, pw: number, oh: number, ow: number, co: number, kh: number, kw: number): void;
  matmul(a: number, b: number, bias: number, c: number, m: number, n: number, k: number, transA: number): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  broadcastRows(src: number, dst: number, rows: number, c: number, scale: number): void;
  adam(w: number, m: number, v: number, g: number, wo: number, mo: number, vo: number, n: number, b1: number, b2: number, lr: number, eps: number, c1: number, c2: number): void;
}

const bindNative = (e: Record<string, (...a: number[]) => void>): NativeModule => ({
  filter: e.wino_filter,
  filterBack: e.wino_filter_back,
  conv: e.wino_conv,
  filterGrad: e.wino_filter_grad,
  pad1: e.pad_1ch,
  conv1: e.conv_1ch,
  filterGrad1: e.filter_grad_1ch,
  adam: e.adam_update,
  broadcastRows: e.broadcast_rows,
  matmul: e.matmul,
  transpose2d: e.transpose2d,
});
const plainModule = heapModuleLoader(NATIVE_WASM_BASE64, bindNative);
const relaxedModule = heapModuleLoader(NATIVE_RELAXED_WASM_BASE64, bindNative);

let relaxed: boolean | undefined;

/**
 * Whether this runtime runs relaxed SIMD (f32x4.relaxed_madd): Node 22+ and Chrome 114+ do; Node 20's V8 has it
 * behind --experimental-wasm-relaxed-simd, which is turned on here (for this process and its worker threads)
 * before the module is validated. Checked once.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed === undefined) {
    const bytes = Uint8Array.from(Buffer.from(NATIVE_RELAXED_WASM_BASE64, 'base64'));
    relaxed = WebAssembly.validate(bytes);
    if (!relaxed) {
      try {
        const v8 = (process as unknown as { getBuiltinModule?: (id: string) => { setFlagsFromString(f: string): void } }).getBuiltinModule?.('node:v8');
        v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
        relaxed = WebAssembly.validate(bytes);
      } catch {
        relaxed = false;
      }
    }
  }
  return relaxed;
}

/** Which build of native.c the kernels use now: 'relaxed' (fused multiply-adds) or 'plain' SIMD. */
export function nativeBuild(): 'relaxed' | 'plain' {
  return flags.relaxedSimd && relaxedSimdSupported() ? 'relaxed' : 'plain';
}

/**
 * fer's C kernels (native.c) bound to this backend's memory, or undefined where they cannot load: the
 * relaxed-SIMD build where the runtime has it (unless FER_NO_RELAXED_SIMD=1), else the plain SIMD one.
 */
export function nativeModule(backend: WasmBackend): NativeModule | undefined {
  return (nativeBuild() === 'relaxed' ? relaxedModule(backend) : undefined) ?? plainModule(backend);
}

/** How often each native path ran in this thread (tests check that a path was taken). */
export const nativeCalls = { winograd: 0, oneChannel: 0, matmul: 0 };

/** Whether a convolution with this geometry runs here (and the module loads on this backend). */
function winogradApplies(backend: WasmBackend, info: tf.backend_util.Conv2DInfo): boolean {
  return (
    flags.winograd &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.dataFormat === 'channelsLast' &&
    info.inChannels % 4 === 0 &&
    info.outChannels % 4 === 0 &&
    info.outHeight > 0 &&
    info.outWidth > 0 &&
    nativeModule(backend) !== undefined
  );
}

/**
 * Tiles per block. By default the block's transformed input and products (36 * tb * (ci + co) floats)
 * stay within ~768 KB of cache. A forward pass streams all of the transformed filter U (36 * ci * co
 * floats) once per block, though, and where U outgrows the last-level cache share (over 6 MB: 256 x 256
 * channels, vgg's last stage, 9.4 MB) that dominates; there blocks grow until one position's slice of
 * the input or the products (tb * max(ci, co) floats) fills 256 KB. At 6x6 and batch 64 that is one
 * block, and the pass takes half the time of blocks of 16 tiles. (128 x 256 channels gain nothing, nor
 * does the filter gradient, which keeps its products in cache.)
 */
function tileBlock(ci: number, co: number, tiles: number, forward = false): number {
  let tb = flags.winogradTileBlock > 0 ? flags.winogradTileBlock : Math.max(16, Math.floor(5461 / (ci + co)));
  if (forward && flags.wholeBatchBlocks && flags.winogradTileBlock === 0 && 36 * ci * co * 4 > 6 * 2 ** 20) tb = Math.max(tb, Math.floor(65536 / Math.max(ci, co)));
  return Math.max(1, Math.min(tiles, tb));
}

/** A Winograd convolution's geometry: NHWC x [n, h, w, ci] -> y [n, oh, ow, co], 3x3, stride 1, padding padT/padL. */
interface WinoGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  padT: number;
  padL: number;
}

function geometryOf(info: tf.backend_util.Conv2DInfo): WinoGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    padT: info.padInfo.top,
    padL: info.padInfo.left,
  };
}

function tileCount(g: WinoGeometry): number {
  return g.n * Math.ceil(g.oh / 4) * Math.ceil(g.ow / 4);
}

/** y = conv3x3(x, filter) (+ bias), NHWC, for a geometry winogradApplies accepts. */
function winogradConv2D(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, g: WinoGeometry): TensorInfo {
  const m = nativeModule(backend)!;
  nativeCalls.winograd++;
  const { n, h, w, ci, oh, ow, co } = g;
  const tb = tileBlock(ci, co, tileCount(g), true);
  const y = backend.makeOutput([n, oh, ow, co], 'float32');
  const U = backend.makeOutput([36 * ci * co], 'float32');
  const V = backend.makeOutput([36 * tb * ci], 'float32');
  const M = backend.makeOutput([36 * tb * co], 'float32');
  m.filter(offsetOf(backend, filter), offsetOf(backend, U), ci, co);
  m.conv(
    offsetOf(backend, x),
    offsetOf(backend, U),
    bias ? offsetOf(backend, bias) : 0,
    offsetOf(backend, y),
    offsetOf(backend, V),
    offsetOf(backend, M),
    n,
    h,
    w,
    ci,
    oh,
    ow,
    co,
    g.padT,
    g.padL,
    tb,
  );
  dispose(backend, U, V, M);
  return y;
}

/** dL/dfilter [3, 3, ci, co] of y = conv3x3(x, filter) given dy, for a geometry winogradApplies accepts. */
function winogradFilterGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: WinoGeometry): TensorInfo {
  const m = nativeModule(backend)!;
  nativeCalls.winograd++;
  const { n, h, w, ci, oh, ow, co } = g;
  const tb = tileBlock(ci, co, tileCount(g));
  const dg = backend.makeOutput([3, 3, ci, co], 'float32');
  const dU = backend.makeOutput([36 * ci * co], 'float32');
  const V = backend.makeOutput([36 * tb * ci], 'float32');
  const dM = backend.makeOutput([36 * tb * co], 'float32');
  m.filterGrad(offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dU), offsetOf(backend, V), offsetOf(backend, dM), n, h, w, ci, oh, ow, co, g.padT, g.padL, tb);
  m.filterBack(offsetOf(backend, dU), offsetOf(backend, dg), ci, co);
  dispose(backend, dU, V, dM);
  return dg;
}

/**
 * Small images in a mosaic. A 6x6 output (vgg's last stage) takes 2x2 Winograd tiles of 4x4: 64
 * outputs computed for 36 kept. For 'same' 3x3 convolutions the images can instead be laid side by side
 * in an R x C grid, one zero row and column between neighbours (each image's padding, shared), and
 * convolved as one large 'valid' image: for 6x6 images and batch 32 (4 x 8) 98 tiles instead of 128, for
 * batch 64 (8 x 8) 196 instead of 256. The rows and columns between images are computed and dropped; the
 * filter gradient sees zeros there in dy, so it sums exactly the images' own positions.
 */
interface Mosaic {
  rows: number;
  cols: number;
  /** The mosaic input: [1, rows * (h + 1) + 1, cols * (w + 1) + 1, ci]. */
  input: WinoGeometry;
}

export function mosaicFor(g: WinoGeometry): Mosaic | undefined {
  const same = g.padT === 1 && g.padL === 1 && g.oh === g.h && g.ow === g.w;
  if (!flags.winogradMosaic || !same || g.n < 2) return undefined;
  const tiles = (r: number, c: number) => Math.ceil((r * (g.h + 1) - 1) / 4) * Math.ceil((c * (g.w + 1) - 1) / 4);
  let best: { rows: number; cols: number; tiles: number } | undefined;
  for (let rows = 1; rows <= g.n; rows++) {
    const cols = Math.ceil(g.n / rows);
    const t = tiles(rows, cols);
    if (!best || t < best.tiles) best = { rows, cols, tiles: t };
  }
  // worth two copies only where it saves a sixth of the tiles (never for 12x12 or 24x24, whole tiles already)
  if (!best || best.tiles > (5 / 6) * tileCount(g)) return undefined;
  const mh = best.rows * (g.h + 1) + 1;
  const mw = best.cols * (g.w + 1) + 1;
  return { rows: best.rows, cols: best.cols, input: { n: 1, h: mh, w: mw, ci: g.ci, oh: mh - 2, ow: mw - 2, co: g.co, padT: 0, padL: 0 } };
}

/**
 * Copies images [n, h, w, c] into a zeroed mosaic [mh, mw, c]: image b at grid cell (b / cols, b % cols),
 * its top-left at (at + row * (h + 1), at + col * (w + 1)) (at = 1 for an input mosaic, 0 for an output one).
 */
function toMosaic(backend: WasmBackend, src: TensorInfo, mz: Mosaic, mh: number, mw: number, at: number): TensorInfo {
  const [n, h, w, c] = src.shape;
  const out = backend.makeOutput([1, mh, mw, c], 'float32');
  const s = heapF32(backend, src);
  const d = heapF32(backend, out);
  d.fill(0);
  for (let b = 0; b < n; b++) {
    const r = Math.floor(b / mz.cols);
    const col = b - r * mz.cols;
    for (let i = 0; i < h; i++) {
      const from = (b * h + i) * w * c;
      d.set(s.subarray(from, from + w * c), ((at + r * (h + 1) + i) * mw + at + col * (w + 1)) * c);
    }
  }
  return out;
}

/** The images [n, h, w, c] back out of an output mosaic [mh, mw, c] (the inverse of toMosaic with at = 0). */
function fromMosaic(backend: WasmBackend, src: TensorInfo, mz: Mosaic, n: number, h: number, w: number): TensorInfo {
  const [, , mw, c] = src.shape;
  const out = backend.makeOutput([n, h, w, c], 'float32');
  const s = heapF32(backend, src);
  const d = heapF32(backend, out);
  for (let b = 0; b < n; b++) {
    const r = Math.floor(b / mz.cols);
    const col = b - r * mz.cols;
    for (let i = 0; i < h; i++) {
      const from = ((r * (h + 1) + i) * mw + col * (w + 1)) * c;
      d.set(s.subarray(from, from + w * c), (b * h + i) * w * c);
    }
  }
  return out;
}

function winogradConv2DAuto(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, g: WinoGeometry): TensorInfo {
  const mz = mosaicFor(g);
  if (!mz) return winogradConv2D(backend, x, filter, bias, g);
  const xm = toMosaic(backend, x, mz, mz.input.h, mz.input.w, 1);
  const ym = winogradConv2D(backend, xm, filter, bias, mz.input);
  dispose(backend, xm);
  const y = fromMosaic(backend, ym, mz, g.n, g.oh, g.ow);
  dispose(backend, ym);
  return y;
}

function winogradFilterGradAuto(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: WinoGeometry): TensorInfo {
  const mz = mosaicFor(g);
  if (!mz) return winogradFilterGrad(backend, x, dy, g);
  const xm = toMosaic(backend, x, mz, mz.input.h, mz.input.w, 1);
  const dym = toMosaic(backend, dy, mz, mz.input.oh, mz.input.ow, 0);
  const dg = winogradFilterGrad(backend, xm, dym, mz.input);
  dispose(backend, xm, dym);
  return dg;
}

/**
 * Convolutions with one input channel (a grey image's first layer: 5x5, 1 -> 32), stride 1, which
 * XNNPACK runs at a third of its usual speed: direct loops over a zero-padded copy of the input, four
 * output pixels by eight output channels per step. The filter gradient needs kw <= 5.
 */
function oneChannelApplies(backend: WasmBackend, info: tf.backend_util.Conv2DInfo, forFilterGrad = false): boolean {
  return (
    flags.oneChannelConv &&
    info.inChannels === 1 &&
    info.outChannels % 8 === 0 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.dataFormat === 'channelsLast' &&
    info.outHeight > 0 &&
    info.outWidth > 0 &&
    (!forFilterGrad || info.filterWidth <= 5) &&
    nativeModule(backend) !== undefined
  );
}

function padded(backend: WasmBackend, m: NativeModule, x: TensorInfo, info: tf.backend_util.Conv2DInfo): { xp: TensorInfo; ph: number; pw: number } {
  const ph = info.outHeight + info.filterHeight - 1;
  const pw = info.outWidth + info.filterWidth - 1;
  // 8 floats of slack: the filter gradient's 5-tap reads run up to 4 past a row for kw < 5.
  const xp = backend.makeOutput([info.batchSize * ph * pw + 8], 'float32');
  m.pad1(offsetOf(backend, x), offsetOf(backend, xp), info.batchSize, info.inHeight, info.inWidth, ph, pw, info.padInfo.top, info.padInfo.left);
  return { xp, ph, pw };
}

function oneChannelConv2D(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const m = nativeModule(backend)!;
  nativeCalls.oneChannel++;
  const { xp, ph, pw } = padded(backend, m, x, info);
  const y = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
  m.conv1(
    offsetOf(backend, xp),
    offsetOf(backend, filter),
    bias ? offsetOf(backend, bias) : 0,
    offsetOf(backend, y),
    info.batchSize,
    ph,
    pw,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
  );
  dispose(backend, xp);
  return y;
}

function oneChannelFilterGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const m = nativeModule(backend)!;
  nativeCalls.oneChannel++;
  const { xp, ph, pw } = padded(backend, m, x, info);
  const dg = backend.makeOutput([info.filterHeight, info.filterWidth, 1, info.outChannels], 'float32');
  m.filterGrad1(
    offsetOf(backend, xp),
    offsetOf(backend, dy),
    offsetOf(backend, dg),
    info.batchSize,
    ph,
    pw,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
  );
  dispose(backend, xp);
  return dg;
}

/** y = conv(x, filter) (+ bias) by Winograd or the one-channel loops where one applies; undefined otherwise. */
export function nativeConv2D(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  if (winogradApplies(backend, info)) return winogradConv2DAuto(backend, x, filter, bias, geometryOf(info));
  if (oneChannelApplies(backend, info)) return oneChannelConv2D(backend, x, filter, bias, info);
  return undefined;
}

/** dL/dfilter by Winograd or the one-channel loops where one applies; undefined otherwise. */
export function nativeFilterGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  if (winogradApplies(backend, info)) return winogradFilterGradAuto(backend, x, dy, geometryOf(info));
  if (oneChannelApplies(backend, info, true)) return oneChannelFilterGrad(backend, x, dy, info);
  return undefined;
}

/**
 * op(a) op(b) (+ bias) on fer's matrix product for float32 operands of rank 2 or 3 whose batch sizes
 * match or are 1 and whose result has a multiple of 4 columns (the dense layers of the seed CNN: XNNPACK
 * re-packs a weight matrix that changes every step, and runs transposed operands as a slow loop).
 * Undefined where it does not apply.
 */
export function nativeMatMul(backend: WasmBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, bias?: TensorInfo): TensorInfo | undefined {
  const mod = nativeModule(backend);
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (!mod || !flags.nativeMatMul || a.dtype !== 'float32' || b.dtype !== 'float32' || ra !== rb || ra < 2 || ra > 3) return undefined;
  const batchA = ra === 3 ? a.shape[0] : 1;
  const batchB = rb === 3 ? b.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || n % 4 !== 0 || m === 0 || n === 0 || k === 0) return undefined;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return undefined;
  const batch = Math.max(batchA, batchB);
  nativeCalls.matmul++;
  const bT = transposeB ? backend.makeOutput([batchB, k, n], 'float32') : undefined;
  const out = backend.makeOutput(ra === 3 ? [batch, m, n] : [m, n], 'float32');
  const [ao, bo, co] = [offsetOf(backend, a), offsetOf(backend, bT ?? b), offsetOf(backend, out)];
  if (bT) for (let i = 0; i < batchB; i++) mod.transpose2d(offsetOf(backend, b) + i * n * k * 4, bo + i * k * n * 4, n, k);
  const biasOffset = bias ? offsetOf(backend, bias) : 0;
  for (let i = 0; i < batch; i++) {
    mod.matmul(ao + (batchA > 1 ? i : 0) * m * k * 4, bo + (batchB > 1 ? i : 0) * k * n * 4, biasOffset, co + i * m * n * 4, m, n, k, transposeA ? 1 : 0);
  }
  if (bT) dispose(backend, bT);
  return out;
}
