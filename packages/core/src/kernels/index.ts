import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig } from './BatchMatMul.js';
import { batchNormGradSumsConfig } from './BatchNormGradSums.js';
import { conv2DConfig } from './Conv2D.js';
import { fusedConv2DConfig } from './FusedConv2D.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { fusedBatchNormGradConfig } from './FusedBatchNorm_grad.js';
import { identityConfig } from './Identity.js';
import { leakyReluGradConfig as leakyReluGradientConfig } from './LeakyRelu_grad.js';
import { leakyReluGradConfig } from './LeakyReluGrad.js';
import { leakyReluConfig } from './LeakyRelu.js';
import { meanConfig } from './Mean.js';
import { meanGradConfig } from './Mean_grad.js';
import { ferMeanGradConfig } from './MeanGrad.js';
import { fusedMatMulConfig } from './FusedMatMul.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { maxPoolConfig } from './MaxPool.js';
import { rememberStock, stockKernel, withStockSetup } from './stock.js';
import { sumConfig } from './Sum.js';

/** Our kernels for tfjs's wasm backend, one per file, registered by name like tfjs's own. */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  sumConfig,
  leakyReluGradConfig,
  batchNormGradSumsConfig,
  identityConfig,
  leakyReluConfig,
  meanConfig,
  maxPoolConfig,
  conv2DConfig,
  fusedConv2DConfig,
  ferMeanGradConfig,
  fusedMatMulConfig,
];

/**
 * Gradient overrides (same math as tfjs's, fewer and cheaper kernels). Gradients are registered per
 * kernel name, not per backend, so each one either works on every backend or falls back to tfjs's
 * formula where our kernel is missing.
 */
export const GRADIENT_OVERRIDES: tf.GradConfig[] = [leakyReluGradientConfig, fusedBatchNormGradConfig, meanGradConfig];

let registered = false;
const stockGradients = new Map<string, tf.GradConfig>();

/** Registers the kernels that let the wasm backend train conv nets fast (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const k of WASM_TRAINING_KERNELS) {
    rememberStock(k.kernelName, k.backendName);
    if (tf.getKernel(k.kernelName, k.backendName)) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(withStockSetup(k));
  }
  for (const g of GRADIENT_OVERRIDES) {
    const stock = tf.getGradient(g.kernelName);
    if (stock && !stockGradients.has(g.kernelName)) stockGradients.set(g.kernelName, stock);
    tf.registerGradient(g);
  }
  registered = true;
}

/**
 * Chooses, by kernel name, which of our kernels and gradient overrides are active; the others go back
 * to tfjs's own (a stock kernel the wasm backend lacks, Conv2DBackpropFilter, stays ours). For
 * ablations in one process: `fer bench` measures each optimisation under the same machine load.
 */
export function useFerKernels(enabled: (kernelName: string) => boolean): void {
  registerWasmTrainingKernels();
  for (const k of WASM_TRAINING_KERNELS) {
    const stock = stockKernel(k.kernelName, k.backendName);
    const want = enabled(k.kernelName) || !stock ? withStockSetup(k) : stock;
    const cur = tf.getKernel(k.kernelName, k.backendName);
    if (cur?.kernelFunc === want.kernelFunc) continue;
    if (cur) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(want);
  }
  for (const g of GRADIENT_OVERRIDES) {
    const stock = stockGradients.get(g.kernelName);
    tf.registerGradient(enabled(`${g.kernelName}_grad`) || !stock ? g : stock);
  }
}

export { profileKernels, formatKernelProfile, type KernelTime, type KernelProfiler } from './profile.js';
