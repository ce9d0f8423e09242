import * as tf from '@tensorflow/tfjs';
import { fusedAdamStep } from '../backend/native/adam.js';
import { batchGradients, type LossOptions } from './gradients.js';

/**
 * One optimisation step on a batch: the contract between the training loop (train.ts) and whatever
 * computes the step, on this thread (createLocalStepper, below) or over worker threads
 * (createDataParallelStepper, parallel/stepper.ts).
 */
export interface BatchStepper {
  /** Trains on one batch: x is n*48*48 float32 (NHWC, 0..1), labels are class indices. Returns mean loss and count correct. */
  step(x: Float32Array, labels: Int32Array, soft?: Float32Array): Promise<{ loss: number; correct: number }>;
  /** Brings the main thread's model (weights incl. BatchNorm moving stats) up to date, before evaluating or saving. */
  sync(): Promise<void>;
  /** Logits (n x 7, inference mode) of the main model's weights, where the stepper can spread them over its workers. */
  predict?(x: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** The same contract on the calling thread: the single-threaded reference for the parallel one. */
export function createLocalStepper(opts: { model: tf.LayersModel; optimizer: tf.Optimizer; loss?: LossOptions }): BatchStepper {
  const { model, optimizer, loss: lossOptions } = opts;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    async step(x, labels, soft) {
      const { loss, correct, grads } = batchGradients(model, x, labels, lossOptions, soft);
      if (!fusedAdamStep(optimizer, vars, grads)) {
        const named: Record<string, tf.Tensor> = {};
        for (const [i, v] of vars.entries()) named[v.name] = grads[i];
        optimizer.applyGradients(named as tf.NamedTensorMap as never);
      }
      tf.dispose(grads);
      return { loss, correct };
    },
    async sync() {},
    async dispose() {},
  };
}
