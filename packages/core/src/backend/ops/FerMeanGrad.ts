import * as tf from '@tensorflow/tfjs';
import { offsetOf, type TensorInfo, type WasmBackend } from '../wasm.js';
import { nativeModule } from '../native/native.js';

/** fer's kernel name: dx [..., c] = dy [c] / count on every row; the gradient of a mean over all axes but the last. */
export const FER_MEAN_GRAD = 'FerMeanGrad';

function meanGrad(args: { inputs: { dy: TensorInfo }; backend: WasmBackend; attrs: { shape: number[] } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const c = attrs.shape[attrs.shape.length - 1];
  const rows = tf.util.sizeFromShape(attrs.shape) / c;
  const out = backend.makeOutput(attrs.shape, 'float32');
  nativeModule(backend)!.broadcastRows(offsetOf(backend, inputs.dy), offsetOf(backend, out), rows, c, 1 / rows);
  return out;
}

export const ferMeanGradConfig: tf.KernelConfig = {
  kernelName: FER_MEAN_GRAD,
  backendName: 'wasm',
  kernelFunc: meanGrad as unknown as tf.KernelFunc,
};
