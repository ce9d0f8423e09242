import type * as tf from '@tensorflow/tfjs';
import { EMOTIONS, IMAGE_SIZE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import { predictProbabilities } from '../evaluate.js';
import { FerError } from '../errors.js';

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

export function argmaxRows(probs: Float32Array, classes = NUM_CLASSES): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
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
  return ['id,label', ...rows].join('\n') + '\n';
}
