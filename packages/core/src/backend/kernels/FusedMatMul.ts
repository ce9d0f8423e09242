import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import type { TensorInfo, WasmBackend } from '../wasm.js';
import { nativeMatMul } from '../native/native.js';

/** A dense layer's forward pass (matrix product + bias, no activation) on fer's matrix product; the rest to tfjs's kernel. */
function fusedMatMul(args: {
  inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA: boolean; transposeB: boolean; activation?: string };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const linear = attrs.activation === undefined || attrs.activation === 'linear';
  const out = linear && !inputs.preluActivationWeights ? nativeMatMul(backend, inputs.a, inputs.b, attrs.transposeA, attrs.transposeB, inputs.bias) : undefined;
  return out ?? callStock(tf._FusedMatMul, args as never);
}

export const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'wasm',
  kernelFunc: fusedMatMul as unknown as tf.KernelFunc,
};
