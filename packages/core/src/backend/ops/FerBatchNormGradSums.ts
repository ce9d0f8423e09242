import type * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../native/simd.js';
import { dispose, heapF32, offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * The two per-channel sums BatchNorm's gradient needs, sum(dy) and sum(dy * (x - mean)), in one pass
 * over the activations instead of four reductions and two full-size temporaries. Outputs [C] each.
 */
export const FER_BATCH_NORM_GRAD_SUMS = 'FerBatchNormGradSums';

function batchNormGradSums(args: { inputs: { dy: TensorInfo; x: TensorInfo; mean: TensorInfo }; backend: WasmBackend }): TensorInfo[] {
  const { inputs, backend } = args;
  const c = inputs.x.shape[inputs.x.shape.length - 1];
  const rows = inputs.x.shape.reduce((a, b) => a * b, 1) / c;
  const sDy = backend.makeOutput([c], 'float32');
  const sDyXmu = backend.makeOutput([c], 'float32');
  const simd = c % 4 === 0 ? simdKernels(backend) : undefined;
  if (simd) {
    const scratch = backend.makeOutput([6 * c], 'float32');
    simd.channelSums(
      offsetOf(backend, inputs.dy),
      offsetOf(backend, inputs.x),
      offsetOf(backend, inputs.mean),
      rows,
      c,
      offsetOf(backend, scratch),
      offsetOf(backend, sDy),
      offsetOf(backend, sDyXmu),
    );
    dispose(backend, scratch);
    return [sDy, sDyXmu];
  }
  const x = heapF32(backend, inputs.x);
  const dy = heapF32(backend, inputs.dy);
  const mean = heapF32(backend, inputs.mean);
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++, o += c) {
    for (let j = 0; j < c; j++) {
      const g = dy[o + j];
      a[j] += g;
      b[j] += g * (x[o + j] - mean[j]);
    }
  }
  heapF32(backend, sDy).set(a);
  heapF32(backend, sDyXmu).set(b);
  return [sDy, sDyXmu];
}

export const ferBatchNormGradSumsConfig: tf.KernelConfig = {
  kernelName: FER_BATCH_NORM_GRAD_SUMS,
  backendName: 'wasm',
  kernelFunc: batchNormGradSums as unknown as tf.KernelFunc,
};
