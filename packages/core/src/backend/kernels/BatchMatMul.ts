import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import { dispose, transposeInfo, type TensorInfo, type WasmBackend } from '../wasm.js';
import { nativeMatMul } from '../native/native.js';

/**
 * Matrix products on fer's own kernel (nativeMatMul, native.c) where it applies. Otherwise, with
 * transposed operands: the stock wasm kernel runs XNNPACK only for plain operands and a slow loop
 * otherwise (an order of magnitude slower for the dense layer's dW = x^T dy), so the transpose is
 * materialised first, which costs little. Dense-layer gradients are exactly these products.
 */
function batchMatMul(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackend; attrs: { transposeA: boolean; transposeB: boolean } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const native = nativeMatMul(backend, inputs.a, inputs.b, attrs.transposeA, attrs.transposeB);
  if (native) return native;
  if (!attrs.transposeA && !attrs.transposeB) return callStock(tf.BatchMatMul, args as never);
  const swapLast = (t: TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transposeInfo(backend, t, perm);
  };
  const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
  const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
  const out = callStock(tf.BatchMatMul, { inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } } as never);
  if (a !== inputs.a) dispose(backend, a);
  if (b !== inputs.b) dispose(backend, b);
  return out;
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
