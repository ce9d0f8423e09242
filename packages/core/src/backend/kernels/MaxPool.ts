import * as tf from '@tensorflow/tfjs';
import { offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';
import { simdKernels } from '../native/simd.js';
import { callStock } from './stock.js';

/** The seed CNN's 2x2, stride-2 max pool in our SIMD module (NHWC, channels a multiple of 4); anything else goes to the stock kernel. */
function maxPool(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (x.dtype !== 'float32' || x.shape.length !== 4) return callStock(tf.MaxPool, args as never);
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const plain =
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    oh * 2 <= h &&
    ow * 2 <= w;
  const simd = plain && c % 4 === 0 ? simdKernels(backend) : undefined;
  if (!simd) return callStock(tf.MaxPool, args as never);
  const out = backend.makeOutput([n, oh, ow, c], 'float32');
  simd.maxPool2x2(offsetOf(backend, x), offsetOf(backend, out), n, h, w, c, oh, ow);
  return out;
}

export const maxPoolConfig: tf.KernelConfig = {
  kernelName: tf.MaxPool,
  backendName: 'wasm',
  kernelFunc: maxPool as unknown as tf.KernelFunc,
};
