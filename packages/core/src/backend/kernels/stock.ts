import * as tf from '@tensorflow/tfjs';

/**
 * The wasm backend's own kernels that ours replace, kept so that a replacement can fall back to them
 * for the cases it does not cover (NCHW, dilations) and so that their setup (cwrap of the C++
 * function) still runs when the backend starts.
 */
const stock = new Map<string, tf.KernelConfig>();

export function rememberStock(kernelName: string, backendName = 'wasm'): void {
  const key = `${backendName}/${kernelName}`;
  if (stock.has(key)) return;
  const k = tf.getKernel(kernelName, backendName);
  if (k) stock.set(key, { ...k });
}

export function stockKernel(kernelName: string, backendName = 'wasm'): tf.KernelConfig | undefined {
  return stock.get(`${backendName}/${kernelName}`);
}

export function callStock(kernelName: string, args: Parameters<tf.KernelFunc>[0], backendName = 'wasm'): tf.TensorInfo {
  const k = stockKernel(kernelName, backendName);
  if (!k) throw new Error(`no stock ${backendName} kernel ${kernelName} to fall back to`);
  return k.kernelFunc(args) as tf.TensorInfo;
}

/**
 * Our replacement for a kernel, carrying the stock kernel's setup: tfjs runs a wasm kernel's setupFunc
 * when the backend starts, and the stock one binds the C++ function that our fallbacks (callStock) call.
 */
export function withStockSetup(k: tf.KernelConfig): tf.KernelConfig {
  const setup = stockKernel(k.kernelName, k.backendName)?.setupFunc;
  return setup && !k.setupFunc ? { ...k, setupFunc: setup } : k;
}
