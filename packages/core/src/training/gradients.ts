import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../classes.js';
import { decaysWeight } from './optimizers.js';

/** Loss, count correct and gradients of the mean softmax cross-entropy on one batch (training mode). */
export interface BatchGradients {
  loss: number;
  correct: number;
  /** One per model.trainableWeights, in that order; the caller disposes them. */
  grads: tf.Tensor[];
}

/** What the loss and its gradients include beyond plain cross-entropy. */
export interface LossOptions {
  /** Label smoothing: the target is (1 - s) on the true class plus s/7 on every class (PyTorch's label_smoothing). */
  labelSmoothing?: number;
  /** L2 weight decay on convolution and dense kernels (decaysWeight): wd * w is added to their gradients, as PyTorch's SGD does; not part of the reported loss. */
  weightDecay?: number;
  /**
   * Distillation: the share of the target that is the teacher's probabilities (batchGradients' `soft`):
   * target = (1 - w) x the (smoothed) one-hot label + w x soft, so the loss is (1 - w) x the labels'
   * cross-entropy + w x the cross-entropy against the teacher. Ignored without `soft`.
   */
  teacherWeight?: number;
}

/**
 * `soft`: n x 7 teacher probabilities (distillation), mixed into the target with options.teacherWeight;
 * `correct` still counts against the labels.
 */
export function batchGradients(model: tf.LayersModel, x: Float32Array, labels: Int32Array, options: LossOptions = {}, soft?: Float32Array): BatchGradients {
  const n = labels.length;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const smoothing = options.labelSmoothing ?? 0;
  const wd = options.weightDecay ?? 0;
  let correct = 0;
  const { value, grads } = tf.tidy(() => {
    const xs = tf.tensor4d(x, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES);
    const target = soft ? distillationTarget(labels, soft, smoothing, options.teacherWeight ?? 0) : undefined;
    return tf.variableGrads(() => {
      const logits = model.apply(xs, { training: true }) as tf.Tensor;
      correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(ys, 1)), 'int32')).dataSync()[0]);
      if (target) return tf.losses.softmaxCrossEntropy(target, logits) as tf.Scalar;
      return (smoothing > 0 ? tf.losses.softmaxCrossEntropy(ys, logits, undefined, smoothing) : tf.losses.softmaxCrossEntropy(ys, logits)) as tf.Scalar;
    }, vars);
  });
  const loss = value.dataSync()[0];
  value.dispose();
  const out = vars.map((v) => grads[v.name]);
  if (wd > 0) {
    for (let i = 0; i < vars.length; i++) {
      if (!decaysWeight(vars[i].name)) continue;
      const g = out[i];
      out[i] = tf.tidy(() => tf.add(g, tf.mul(vars[i], wd)));
      g.dispose();
    }
  }
  return { loss, correct, grads: out };
}

/** (1 - w) x ((1 - s) one-hot + s / 7) + w x soft, row by row, as an n x 7 tensor. */
function distillationTarget(labels: Int32Array, soft: Float32Array, smoothing: number, w: number): tf.Tensor2D {
  const n = labels.length;
  if (soft.length !== n * NUM_CLASSES) throw new Error(`teacher probabilities: ${soft.length} values for ${n} faces (want ${n * NUM_CLASSES})`);
  const t = new Float32Array(n * NUM_CLASSES);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < NUM_CLASSES; c++) {
      const label = (c === labels[i] ? 1 - smoothing : 0) + smoothing / NUM_CLASSES;
      t[i * NUM_CLASSES + c] = (1 - w) * label + w * soft[i * NUM_CLASSES + c];
    }
  return tf.tensor2d(t, [n, NUM_CLASSES]);
}

/** All weights (trainable and BatchNorm moving statistics) packed in model.weights order; `nonTrainable`: only the latter. */
export function packWeights(model: tf.LayersModel, nonTrainable = false): Float32Array {
  const ws = nonTrainable ? model.nonTrainableWeights : model.weights;
  const total = ws.reduce((s, w) => s + tf.util.sizeFromShape(w.shape as number[]), 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const w of ws) {
    const v = w.read().dataSync() as Float32Array;
    out.set(v, o);
    o += v.length;
  }
  return out;
}

/** Writes packed weights (model.weights order, or with `nonTrainable` model.nonTrainableWeights order) into a model. */
export function unpackWeights(model: tf.LayersModel, packed: Float32Array, nonTrainable = false): void {
  let o = 0;
  for (const w of nonTrainable ? model.nonTrainableWeights : model.weights) {
    const shape = w.shape as number[];
    const size = tf.util.sizeFromShape(shape);
    const t = tf.tensor(packed.subarray(o, o + size), shape);
    w.write(t);
    t.dispose();
    o += size;
  }
}
