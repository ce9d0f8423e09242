import * as tf from '@tensorflow/tfjs';
import { offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';
import { simdKernels } from '../native/simd.js';
import { callStock } from './stock.js';

/** LeakyReLU as max(x, alpha*x) in our SIMD module (the seed CNN's alpha is 0.05); other alphas go to the stock kernel. */
function leakyRelu(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: { alpha: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const simd = inputs.x.dtype === 'float32' && attrs.alpha >= 0 && attrs.alpha <= 1 ? simdKernels(backend) : undefined;
  if (!simd) return callStock(tf.LeakyRelu, args as never);
  const out = backend.makeOutput(inputs.x.shape, 'float32');
  simd.leakyRelu(
    offsetOf(backend, inputs.x),
    offsetOf(backend, out),
    inputs.x.shape.reduce((a, b) => a * b, 1),
    attrs.alpha,
  );
  return out;
}

export const leakyReluConfig: tf.KernelConfig = {
  kernelName: tf.LeakyRelu,
  backendName: 'wasm',
  kernelFunc: leakyRelu as unknown as tf.KernelFunc,
};
