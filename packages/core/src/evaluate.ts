import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES, PIXELS_PER_IMAGE, IMAGE_SIZE } from './classes.js';
import type { FaceDataset } from './data/dataset.js';

/** Pixels of rows [start, end) as float32 in 0..1, the models' input scale (as the report's /255). */
export function toInput(pixels: Uint8Array, start: number, end: number, out?: Float32Array): Float32Array {
  const n = (end - start) * PIXELS_PER_IMAGE;
  const x = out && out.length >= n ? out.subarray(0, n) : new Float32Array(n);
  const src = pixels.subarray(start * PIXELS_PER_IMAGE, end * PIXELS_PER_IMAGE);
  for (let i = 0; i < n; i++) x[i] = src[i] / 255;
  return x;
}

/** Logits (n x 7) of a batch of faces (n*48*48 floats in 0..1): a model's, or the data-parallel workers'. */
export type LogitsFn = (x: Float32Array) => Promise<Float32Array>;

/** A model's logits in inference mode. */
export function modelLogits(model: tf.LayersModel): LogitsFn {
  return async (x) => {
    const t = tf.tidy(() => model.predict(tf.tensor4d(x, [x.length / PIXELS_PER_IMAGE, IMAGE_SIZE, IMAGE_SIZE, 1])) as tf.Tensor);
    const out = (await t.data()) as Float32Array;
    t.dispose();
    return out;
  };
}

/** Class probabilities (N x 7, softmax of the logits) batch by batch, from a model or any source of logits. */
export async function predictProbabilities(source: tf.LayersModel | LogitsFn, data: Pick<FaceDataset, 'pixels' | 'size'>, batchSize = 256): Promise<Float32Array> {
  const logitsOf = typeof source === 'function' ? source : modelLogits(source);
  const out = new Float32Array(data.size * NUM_CLASSES);
  const buf = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  for (let s = 0; s < data.size; s += batchSize) {
    const e = Math.min(data.size, s + batchSize);
    const logits = await logitsOf(toInput(data.pixels, s, e, buf));
    for (let i = 0; i < e - s; i++) {
      const row = logits.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
      const max = Math.max(...row);
      let sum = 0;
      for (let c = 0; c < NUM_CLASSES; c++) sum += Math.exp(row[c] - max);
      for (let c = 0; c < NUM_CLASSES; c++) out[(s + i) * NUM_CLASSES + c] = Math.exp(row[c] - max) / sum;
    }
    await new Promise((r) => setImmediate(r)); // let Ctrl-C and progress output through
  }
  return out;
}

export interface Evaluation {
  size: number;
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/** Mean cross-entropy, accuracy and the confusion matrix of probabilities against labels. */
export function scorePredictions(probs: Float32Array, labels: Int8Array): Evaluation {
  const n = labels.length;
  const confusion = Array.from({ length: NUM_CLASSES }, () => new Array<number>(NUM_CLASSES).fill(0));
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < NUM_CLASSES; c++) if (probs[i * NUM_CLASSES + c] > probs[i * NUM_CLASSES + best]) best = c;
    const y = labels[i];
    if (y < 0) continue;
    loss -= Math.log(Math.max(probs[i * NUM_CLASSES + y], 1e-12));
    if (best === y) correct++;
    confusion[y][best]++;
  }
  return { size: n, loss: loss / Math.max(1, n), accuracy: correct / Math.max(1, n), confusion };
}

/** Loss, accuracy and confusion of a model (or any source of logits, such as the data-parallel workers) on labelled faces. */
export async function evaluateModel(source: tf.LayersModel | LogitsFn, data: FaceDataset, batchSize = 256): Promise<Evaluation> {
  return scorePredictions(await predictProbabilities(source, data, batchSize), data.labels);
}
