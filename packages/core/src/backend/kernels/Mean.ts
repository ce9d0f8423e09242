import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { callStock } from './stock.js';
import { dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * Mean over every axis but the last (BatchNorm's batch statistics in training, tf.moments) as our SIMD
 * per-channel sums over the count; the stock kernel transposes the channels to the front first. Other
 * reductions go to the stock kernel.
 */
function mean(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: { axis: number | number[]; keepDims: boolean } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const r = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const c = x.shape[r - 1];
  const leading = r >= 2 && axes.length === r - 1 && axes.every((a, i) => a === i);
  const simd = leading && x.dtype === 'float32' && c % 4 === 0 ? simdKernels(backend) : undefined;
  if (!simd) return callStock(tf.Mean, args as never);
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(attrs.keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c], 'float32');
  const scratch = backend.makeOutput([6 * c], 'float32');
  simd.channelSums(offsetOf(backend, x), 0, 0, rows, c, offsetOf(backend, scratch), offsetOf(backend, out), 0);
  dispose(backend, scratch);
  const o = heapF32(backend, out);
  for (let j = 0; j < c; j++) o[j] /= rows;
  return out;
}

export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: mean as unknown as tf.KernelFunc,
};
