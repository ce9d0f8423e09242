import type { ModelName, ModelOptions } from '../../models/index.js';
import type { LossOptions } from '../gradients.js';

/** Messages between the data-parallel stepper and its workers. */
export interface WorkerInit {
  modelName: ModelName;
  /** The model's build options (dropout, width), so that the workers' copies are the same net. */
  modelOptions?: ModelOptions;
  /** Label smoothing and weight decay, applied in the workers' gradients. */
  loss?: LossOptions;
  backend: string;
}

export interface StepRequest {
  type: 'step';
  /** All of the main model's weights, model.weights order. */
  weights: Float32Array;
  x: Float32Array;
  labels: Int32Array;
  /** Distillation: n x 7 teacher probabilities. */
  soft?: Float32Array;
}

export interface StepReply {
  type: 'step';
  loss: number;
  correct: number;
  /** Gradients of the worker's mean loss, packed in model.trainableWeights order. */
  grads: Float32Array;
  /** The worker's non-trainable weights after its forward pass (BatchNorm moving statistics), model.nonTrainableWeights order. */
  weights: Float32Array;
  numTensors: number;
  /** Time the worker spent on the request. */
  ms: number;
}

export interface PredictRequest {
  type: 'predict';
  /** Absent when the worker has these weights already (no step since its last request). */
  weights?: Float32Array;
  x: Float32Array;
}

export interface PredictReply {
  type: 'predict';
  /** n x 7 logits, inference mode. */
  logits: Float32Array;
}
