import * as tf from '@tensorflow/tfjs';
import { EMOTIONS, IMAGE_SIZE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from '../data/dataset.js';
import { FerError } from '../errors.js';
import { argmaxRows } from './metrics.js';

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

/** Each 48x48 face mirrored left to right. */
export function flipHorizontal(pixels: Uint8Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const S = IMAGE_SIZE;
  for (let base = 0; base < pixels.length; base += PIXELS_PER_IMAGE) {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[base + y * S + x] = pixels[base + y * S + (S - 1 - x)];
  }
  return out;
}

/**
 * Class probabilities (N x 7) of faces; with `tta` the average of the face's and its mirror image's,
 * as faces are left-right symmetric in what they express.
 */
export async function predictFaces(model: tf.LayersModel, pixels: Uint8Array, options: { tta?: boolean; batchSize?: number } = {}): Promise<Float32Array> {
  const size = pixels.length / PIXELS_PER_IMAGE;
  const probs = await predictProbabilities(model, { pixels, size }, options.batchSize);
  if (!options.tta) return probs;
  const flipped = await predictProbabilities(model, { pixels: flipHorizontal(pixels), size }, options.batchSize);
  for (let i = 0; i < probs.length; i++) probs[i] = (probs[i] + flipped[i]) / 2;
  return probs;
}

export interface FacePrediction {
  label: number;
  emotion: string;
  /** Every class with its probability, most likely first. */
  ranked: { emotion: string; probability: number }[];
}

export function describePredictions(probs: Float32Array): FacePrediction[] {
  const labels = argmaxRows(probs);
  return Array.from(labels, (label, i) => ({
    label,
    emotion: EMOTIONS[label],
    ranked: EMOTIONS.map((emotion, c) => ({ emotion, probability: probs[i * NUM_CLASSES + c] })).sort((a, b) => b.probability - a.probability),
  }));
}

/** The NTU / Kaggle submission file: `id,label`, one row per face. */
export function submissionCsv(ids: readonly string[] | undefined, probs: Float32Array): string {
  const labels = argmaxRows(probs);
  if (ids && ids.length !== labels.length) throw new FerError(`${ids.length} ids for ${labels.length} predictions`);
  const rows = Array.from(labels, (l, i) => `${ids ? ids[i] : i},${l}`);
  return `${['id,label', ...rows].join('\n')}\n`;
}
