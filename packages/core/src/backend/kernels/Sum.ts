import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import { simdKernels } from '../native/simd.js';
import { dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * Sum over every axis but the last: the bias, BatchNorm and broadcast gradients of a conv net, per
 * channel. The stock kernel transposes the channels to the front and then reduces; this accumulates rows into per-channel doubles in one
 * pass. Other reductions go to the stock kernel.
 */
function sum(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: { axis: number | number[]; keepDims: boolean } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const r = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = r >= 2 && axes.length === r - 1 && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== 'float32') return callStock(tf.Sum, args as never);
  const c = x.shape[r - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(attrs.keepDims ? [...x.shape.slice(0, -1).map(() => 1), c] : [c], 'float32');
  const simd = c % 4 === 0 ? simdKernels(backend) : undefined;
  if (simd) {
    const scratch = backend.makeOutput([6 * c], 'float32');
    simd.channelSums(offsetOf(backend, x), 0, 0, rows, c, offsetOf(backend, scratch), offsetOf(backend, out), 0);
    dispose(backend, scratch);
    return out;
  }
  const src = heapF32(backend, x);
  const acc = new Float64Array(c);
  for (let i = 0, o = 0; i < rows; i++, o += c) for (let j = 0; j < c; j++) acc[j] += src[o + j];
  heapF32(backend, out).set(acc);
  return out;
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: sum as unknown as tf.KernelFunc,
};
