import * as tf from '@tensorflow/tfjs';
import { stockKernel } from './stock.js';
import type { TensorInfo, WasmBackend } from '../wasm.js';

/**
 * Identity as a shared reference (what the cpu backend does, and what wasm's own Reshape does): tfjs
 * tensors are immutable, so a copy buys nothing. The stock kernel copies, and training calls it three
 * times per step on the first conv layer's 19 MB activation (gradient bookkeeping and clones).
 */
function identity(args: { inputs: { x: TensorInfo }; backend: WasmBackend }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return stockKernel(tf.Identity)!.kernelFunc(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
