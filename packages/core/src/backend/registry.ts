import * as tf from '@tensorflow/tfjs';
import { fusedBatchNormGradientConfig } from './gradients/FusedBatchNorm.js';
import { leakyReluGradientConfig } from './gradients/LeakyRelu.js';
import { meanGradientConfig } from './gradients/Mean.js';
import { reluGradientConfig } from './gradients/Relu.js';
import { squareGradientConfig } from './gradients/Square.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { castConfig } from './kernels/Cast.js';
import { conv2DConfig } from './kernels/Conv2D.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { fusedBatchNormConfig } from './kernels/FusedBatchNorm.js';
import { fusedConv2DConfig } from './kernels/FusedConv2D.js';
import { fusedMatMulConfig } from './kernels/FusedMatMul.js';
import { identityConfig } from './kernels/Identity.js';
import { leakyReluConfig } from './kernels/LeakyRelu.js';
import { maxPoolConfig } from './kernels/MaxPool.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { meanConfig } from './kernels/Mean.js';
import { rememberStock, stockKernel, withStockSetup } from './kernels/stock.js';
import { sumConfig } from './kernels/Sum.js';
import { ferBatchNormGradSumsConfig } from './ops/FerBatchNormGradSums.js';
import { ferConv2DBiasConfig, ferConv2DBiasGradientConfig } from './ops/FerConv2DBias.js';
import { ferLeakyReluGradConfig } from './ops/FerLeakyReluGrad.js';
import { ferMeanGradConfig } from './ops/FerMeanGrad.js';
import { ferScaledMulConfig } from './ops/FerScaledMul.js';

/*
 * The one list of what fer adds to TensorFlow.js. Three kinds, each in its own folder:
 * - kernels/:   tfjs kernels that fer replaces on the wasm backend, under tfjs's kernel name (the file's name);
 * - gradients/: tfjs gradients that fer replaces, under the forward kernel's name (the file's name);
 * - ops/:       fer's own kernels under fer's own names (Fer*), with a gradient where they have one.
 * native/ holds the C and WebAssembly they call. A new kernel, gradient or op is a file in its folder
 * and one line here.
 */

/** tfjs kernels replaced on the wasm backend. */
export const KERNEL_OVERRIDES: tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  sumConfig,
  identityConfig,
  leakyReluConfig,
  meanConfig,
  maxPoolConfig,
  conv2DConfig,
  fusedConv2DConfig,
  fusedMatMulConfig,
  castConfig,
  fusedBatchNormConfig,
];

/**
 * Gradient overrides (same math as tfjs's, fewer and cheaper kernels). Gradients are registered per
 * kernel name, not per backend, so each one uses fer's op where the backend has it and tfjs's formula
 * elsewhere.
 */
export const GRADIENT_OVERRIDES: tf.GradConfig[] = [leakyReluGradientConfig, fusedBatchNormGradientConfig, meanGradientConfig, reluGradientConfig, squareGradientConfig];

export interface FerOp {
  name: string;
  /** The op's kernel on a backend, or undefined where it has none there (the callers then take plain tfjs ops). */
  kernel(backendName: string): tf.KernelConfig | undefined;
  gradient?: tf.GradConfig;
}

const wasmOnly = (config: tf.KernelConfig) => (backendName: string) => (backendName === config.backendName ? config : undefined);

/** fer's own ops. */
export const FER_OPS: FerOp[] = [
  { name: ferLeakyReluGradConfig.kernelName, kernel: wasmOnly(ferLeakyReluGradConfig) },
  { name: ferBatchNormGradSumsConfig.kernelName, kernel: wasmOnly(ferBatchNormGradSumsConfig) },
  { name: ferMeanGradConfig.kernelName, kernel: wasmOnly(ferMeanGradConfig) },
  { name: ferScaledMulConfig.kernelName, kernel: wasmOnly(ferScaledMulConfig) },
  { name: ferConv2DBiasGradientConfig.kernelName, kernel: ferConv2DBiasConfig, gradient: ferConv2DBiasGradientConfig },
];

const opsRegistered = new Set<string>();

/** Registers fer's ops on a backend (idempotent); selectBackend calls it for the backend it starts. */
export function registerFerOps(backendName: string): void {
  if (opsRegistered.has(backendName)) return;
  for (const op of FER_OPS) {
    const k = op.kernel(backendName);
    if (k && !tf.getKernel(k.kernelName, backendName)) tf.registerKernel(k);
    if (op.gradient && !tf.getGradient(op.gradient.kernelName)) tf.registerGradient(op.gradient);
  }
  opsRegistered.add(backendName);
}

let registered = false;
const stockGradients = new Map<string, tf.GradConfig>();

/** Registers fer's kernel and gradient overrides and its ops for the wasm backend (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const k of KERNEL_OVERRIDES) {
    rememberStock(k.kernelName, k.backendName);
    if (tf.getKernel(k.kernelName, k.backendName)) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(withStockSetup(k));
  }
  for (const g of GRADIENT_OVERRIDES) {
    const stock = tf.getGradient(g.kernelName);
    if (stock && !stockGradients.has(g.kernelName)) stockGradients.set(g.kernelName, stock);
    tf.registerGradient(g);
  }
  registerFerOps('wasm');
  registered = true;
}

/**
 * Chooses, by kernel name, which of fer's kernel and gradient overrides are active (a gradient by
 * `<kernel>_grad`); the others go back to tfjs's own (a kernel the wasm backend lacks,
 * Conv2DBackpropFilter, stays fer's). For ablations in one process: `fer bench --ablation` measures each
 * optimisation under the same machine load.
 */
export function useFerKernels(enabled: (kernelName: string) => boolean): void {
  registerWasmTrainingKernels();
  for (const k of KERNEL_OVERRIDES) {
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
