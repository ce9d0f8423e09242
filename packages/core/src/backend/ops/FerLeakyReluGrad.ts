import type * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * dL/dx of LeakyReLU in one pass: dy where x > 0, alpha*dy elsewhere. tfjs's gradient is
 * where(greater(x, 0), dy, mul(dy, alpha)): three kernels and two full-size temporaries. Registered
 * under fer's own name; the gradient override in gradients/LeakyRelu.ts uses it where the backend has it.
 */
export const FER_LEAKY_RELU_GRAD = 'FerLeakyReluGrad';

function leakyReluGrad(args: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: WasmBackend; attrs: { alpha: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const out = backend.makeOutput(inputs.x.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const n = inputs.x.shape.reduce((a, b) => a * b, 1);
    simd.leakyReluGrad(offsetOf(backend, inputs.x), offsetOf(backend, inputs.dy), offsetOf(backend, out), n, attrs.alpha);
    return out;
  }
  const x = heapF32(backend, inputs.x);
  const dy = heapF32(backend, inputs.dy);
  const dx = heapF32(backend, out);
  const a = attrs.alpha;
  const b = 1 - a;
  // Branch-free: activations' signs are random, and a mispredicted branch per element costs 3x.
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * (a + b * (((x[i] > 0) as unknown as number) | 0));
  return out;
}

export const ferLeakyReluGradConfig: tf.KernelConfig = {
  kernelName: FER_LEAKY_RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: leakyReluGrad as unknown as tf.KernelFunc,
};
