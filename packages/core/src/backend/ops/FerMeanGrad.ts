import * as tf from '@tensorflow/tfjs';
import { offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';
import { nativeModule } from '../native/native.js';

/**
 * fer's kernel name: the gradient of a mean over a run of axes that ends just before the last (see
 * groupedRows in kernels/Mean.ts): dx [groups, rows, c] = dy [groups, c] / rows on every row of its
 * group. Every axis but the last (BatchNorm's statistics): one group; NHWC's [1, 2] (global average
 * pooling): a group per image. dx has shape attrs.shape; dy holds groups * c values.
 */
export const FER_MEAN_GRAD = 'FerMeanGrad';

function meanGrad(args: { inputs: { dy: TensorInfo }; backend: WasmBackend; attrs: { shape: number[] } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const c = attrs.shape[attrs.shape.length - 1];
  const groups = tf.util.sizeFromShape(inputs.dy.shape) / c;
  const rows = tf.util.sizeFromShape(attrs.shape) / c / groups;
  const out = backend.makeOutput(attrs.shape, 'float32');
  const mod = nativeModule(backend)!;
  const [src, dst] = [offsetOf(backend, inputs.dy), offsetOf(backend, out)];
  for (let g = 0; g < groups; g++) mod.broadcastRows(src + g * c * 4, dst + g * rows * c * 4, rows, c, 1 / rows);
  return out;
}

export const ferMeanGradConfig: tf.KernelConfig = {
  kernelName: FER_MEAN_GRAD,
  backendName: 'wasm',
  kernelFunc: meanGrad as unknown as tf.KernelFunc,
};
