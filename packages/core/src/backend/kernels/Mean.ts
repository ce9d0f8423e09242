import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { callStock } from './stock.js';
import { dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * How a reduction over `axes` of `shape` splits as [groups, rows, c]: axes a contiguous run that ends just
 * before the last axis (every axis but the last: BatchNorm's batch statistics, tf.moments, groups = 1;
 * [1, 2] of NHWC: global average pooling, groups = n). Undefined for any other reduction.
 */
export function groupedRows(shape: readonly number[], axes: readonly number[]): { groups: number; rows: number; c: number } | undefined {
  const r = shape.length;
  if (r < 2 || axes.length === 0) return undefined;
  const sorted = [...axes].sort((a, b) => a - b);
  const k = sorted[0];
  if (sorted[sorted.length - 1] !== r - 2 || sorted.some((a, i) => a !== k + i)) return undefined;
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return { groups: size(shape.slice(0, k)), rows: size(shape.slice(k, r - 1)), c: shape[r - 1] };
}

/**
 * Mean over every axis but the last (BatchNorm's batch statistics in training, tf.moments) or over the
 * spatial axes of NHWC (global average pooling) as our SIMD per-channel sums over the count, one pass;
 * the stock kernel transposes the channels to the front first. Other reductions go to the stock kernel.
 */
function mean(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: { axis: number | number[]; keepDims: boolean } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
  const g = groupedRows(x.shape, axes);
  const simd = g && x.dtype === 'float32' && g.c % 4 === 0 && g.rows > 0 ? simdKernels(backend) : undefined;
  if (!g || !simd) return callStock(tf.Mean, args as never);
  const { groups, rows, c } = g;
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = backend.makeOutput(attrs.keepDims ? outShape : outShape.filter((_, i) => !axes.includes(i)), 'float32');
  const scratch = backend.makeOutput([6 * c], 'float32');
  const [xo, oo, so] = [offsetOf(backend, x), offsetOf(backend, out), offsetOf(backend, scratch)];
  for (let i = 0; i < groups; i++) simd.channelSums(xo + i * rows * c * 4, 0, 0, rows, c, so, oo + i * c * 4, 0);
  dispose(backend, scratch);
  const o = heapF32(backend, out);
  for (let j = 0; j < o.length; j++) o[j] /= rows;
  return out;
}

export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: mean as unknown as tf.KernelFunc,
};
