import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { rememberStock } from './stock.js';

/** Our kernels for tfjs's wasm backend, one per file, registered by name like tfjs's own. */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig];

let registered = false;

/** Registers the kernels that let the wasm backend train conv nets fast (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const k of WASM_TRAINING_KERNELS) {
    rememberStock(k.kernelName, k.backendName);
    if (tf.getKernel(k.kernelName, k.backendName)) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
  registered = true;
}

export { profileKernels, formatKernelProfile, type KernelTime, type KernelProfiler } from './profile.js';
