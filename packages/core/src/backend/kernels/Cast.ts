import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import type { TensorInfo, WasmBackend } from '../wasm.js';

/**
 * Cast to the dtype a tensor already has as a shared reference, as Identity (tensors are immutable).
 * The stock kernel copies, and tf.moments casts its float32 input to float32: a full copy of every
 * BatchNorm layer's input each training step (19 MB for vgg's first layers at batch 64). Real casts go
 * to the stock kernel.
 */
function cast(args: { inputs: { x: TensorInfo }; backend: WasmBackend; attrs: { dtype: tf.DataType } }): TensorInfo {
  const { x } = args.inputs;
  const { dtype } = args.attrs;
  if (x.dtype !== dtype || (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool')) return callStock(tf.Cast, args as never);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}

export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
