import * as tf from '@tensorflow/tfjs';
import { FerError } from '../errors.js';

/**
 * The optimisers fer trains with. Adam is the report's (and runs as fer's fused native step on wasm);
 * SGD with momentum, optionally Nesterov's, is what the published FER2013 recipes use. Their state
 * (Adam's moments, SGD's momentum buffers, the step count) is what checkpoints save, so a resumed run
 * continues exactly.
 */
export const OPTIMIZER_NAMES = ['adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerSpec {
  name: OptimizerName;
  /** SGD: momentum (default 0.9). */
  momentum?: number;
  /** SGD: Nesterov's momentum (default true). */
  nesterov?: boolean;
}

export function createOptimizer(spec: OptimizerSpec, learningRate: number): tf.Optimizer {
  if (spec.name === 'adam') return tf.train.adam(learningRate);
  if (spec.name === 'sgd') return tf.train.momentum(learningRate, spec.momentum ?? 0.9, spec.nesterov ?? true);
  throw new FerError(`unknown optimizer "${(spec as { name: string }).name}"`, { hint: `choose one of: ${OPTIMIZER_NAMES.join(', ')}` });
}

/** Sets the rate the next step uses (tfjs's SGD keeps -lr as a tensor, Adam reads the field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Words for logs: "Adam" or "SGD, Nesterov momentum 0.9". */
export function describeOptimizer(spec: OptimizerSpec): string {
  if (spec.name === 'adam') return 'Adam';
  return `SGD, ${(spec.nesterov ?? true) ? 'Nesterov ' : ''}momentum ${spec.momentum ?? 0.9}`;
}

/**
 * The variables weight decay applies to: convolution and dense kernels, not biases nor BatchNorm's scale
 * and offset (decaying those only fights the normalisation).
 */
export function decaysWeight(variableName: string): boolean {
  return /\/kernel$/.test(variableName.replace(/_\d+$/, ''));
}

/**
 * Makes a freshly loaded optimizer's hidden state what the uninterrupted run had. tfjs's Adam keeps
 * beta1^t and beta2^t for its bias corrections as float32 scalars multiplied by beta every step, but
 * setWeights recomputes them with one pow from the step count, which rounds differently: a resumed run
 * then drifts from the one never stopped. Here they are rebuilt by the same float32 multiplications.
 */
export function restoreOptimizerState(optimizer: tf.Optimizer): void {
  if (optimizer.getClassName() !== 'Adam') return;
  const o = optimizer as unknown as { beta1: number; beta2: number; iterations: number; accBeta1: tf.Variable; accBeta2: tf.Variable };
  const f = Math.fround;
  let a1 = f(o.beta1);
  let a2 = f(o.beta2);
  for (let i = 0; i < o.iterations; i++) {
    a1 = f(a1 * f(o.beta1));
    a2 = f(a2 * f(o.beta2));
  }
  tf.tidy(() => {
    o.accBeta1.assign(tf.scalar(a1));
    o.accBeta2.assign(tf.scalar(a2));
  });
}
