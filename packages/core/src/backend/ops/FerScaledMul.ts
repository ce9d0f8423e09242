import type * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * fer's kernel name: y = a * b * scale elementwise (a and b of one shape, float32), one pass. The
 * gradient of a square, dy * 2x (tf.moments squares every BatchNorm input's deviations), where tfjs
 * runs mul(dy, mul(x, 2)): two passes and a full-size temporary. Multiplying by 2 is exact, so the
 * values are tfjs's.
 */
export const FER_SCALED_MUL = 'FerScaledMul';

function scaledMul(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackend; attrs: { scale: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const out = backend.makeOutput(inputs.a.shape, 'float32');
  const n = inputs.a.shape.reduce((p, q) => p * q, 1);
  const simd = simdKernels(backend);
  if (simd) {
    simd.scaledMul(offsetOf(backend, inputs.a), offsetOf(backend, inputs.b), offsetOf(backend, out), n, attrs.scale);
    return out;
  }
  const a = heapF32(backend, inputs.a);
  const b = heapF32(backend, inputs.b);
  const y = heapF32(backend, out);
  const s = attrs.scale;
  for (let i = 0; i < n; i++) y[i] = a[i] * b[i] * s;
  return out;
}

export const ferScaledMulConfig: tf.KernelConfig = {
  kernelName: FER_SCALED_MUL,
  backendName: 'wasm',
  kernelFunc: scaledMul as unknown as tf.KernelFunc,
};
