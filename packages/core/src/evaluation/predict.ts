import * as tf from '@tensorflow/tfjs';
import { EMOTIONS, IMAGE_SIZE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from '../data/dataset.js';
import { FerError } from '../errors.js';
import { checkEnsemble } from './ensemble.js';
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
export function flipHorizontal(pixels: Uint8Array, out?: Uint8Array): Uint8Array {
  const o = out && out.length >= pixels.length ? out.subarray(0, pixels.length) : new Uint8Array(pixels.length);
  const S = IMAGE_SIZE;
  for (let base = 0; base < pixels.length; base += PIXELS_PER_IMAGE) {
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) o[base + y * S + x] = pixels[base + y * S + (S - 1 - x)];
  }
  return o;
}

/**
 * Each 48x48 face moved `dx` pixels right and `dy` down, the uncovered border filled by repeating the
 * face's edge pixels: the 48x48 crop at offset (pad - dx, pad - dy) of the face padded by `pad` pixels
 * with edge replication, as pad-and-crop augmentation makes it.
 */
export function shiftFaces(pixels: Uint8Array, dx: number, dy: number, out?: Uint8Array): Uint8Array {
  const o = out && out.length >= pixels.length ? out.subarray(0, pixels.length) : new Uint8Array(pixels.length);
  const S = IMAGE_SIZE;
  const clamp = (v: number) => (v < 0 ? 0 : v >= S ? S - 1 : v);
  for (let base = 0; base < pixels.length; base += PIXELS_PER_IMAGE) {
    for (let y = 0; y < S; y++) {
      const row = base + clamp(y - dy) * S;
      for (let x = 0; x < S; x++) o[base + y * S + x] = pixels[row + clamp(x - dx)];
    }
  }
  return o;
}

/** One test-time view of a face: moved by (dx, dy) (shiftFaces), then mirrored if `mirror`. */
export interface FaceView {
  dx: number;
  dy: number;
  mirror: boolean;
}

/** The largest crop padding a view may use: a shift by the whole face would leave only its edge. */
const MAX_CROP_PAD = IMAGE_SIZE / 2;

/**
 * The views a prediction averages over: the face alone; with `tta` also its mirror image; with `tta` and
 * `cropPad` > 0 (a model trained on pad-and-crop by that many pixels) the 10 crops: the centre and the four
 * corners of the padded face, (0, 0) and (±cropPad, ±cropPad), each as it is and mirrored.
 */
export function ttaViews(options: { tta?: boolean; cropPad?: number } = {}): FaceView[] {
  const pad = options.cropPad ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || pad > MAX_CROP_PAD)
    throw new FerError(`crop padding must be an integer from 0 to ${MAX_CROP_PAD} pixels (got ${pad})`, { hint: "check the run's run.json config.augment.crop" });
  if (!options.tta) return [{ dx: 0, dy: 0, mirror: false }];
  const shifts: [number, number][] =
    pad > 0
      ? [
          [0, 0],
          [-pad, -pad],
          [pad, -pad],
          [-pad, pad],
          [pad, pad],
        ]
      : [[0, 0]];
  return shifts.flatMap(([dx, dy]) => [false, true].map((mirror) => ({ dx, dy, mirror })));
}

/** `view` of each face in `pixels` (n*48*48); `scratch`, if given, is reused for the intermediate shift. */
export function faceView(pixels: Uint8Array, view: FaceView, out?: Uint8Array, scratch?: Uint8Array): Uint8Array {
  const shifted = view.dx === 0 && view.dy === 0 ? pixels : shiftFaces(pixels, view.dx, view.dy, view.mirror ? scratch : out);
  return view.mirror ? flipHorizontal(shifted, out) : shifted;
}

/** The views of ttaViews in words, for messages: "none", "flip (face + mirror)" or the 10 crops and their padding. */
export function describeViews(options: { tta?: boolean; cropPad?: number }): string {
  const n = ttaViews(options).length;
  if (n === 1) return 'none';
  if (n === 2) return 'flip (face + mirror)';
  return `10 crops (centre + 4 corners at ±${options.cropPad} px, each mirrored)`;
}

export interface PredictOptions {
  /** Average over test-time views (ttaViews): the mirror image, and the 10 crops with `cropPad`. */
  tta?: boolean;
  /**
   * Pixels of pad-and-crop the model was trained with (run.json config.augment.crop); with `tta`, 10 crops.
   * One number for every model, or one per model (each run's own padding).
   */
  cropPad?: number | readonly number[];
  /** Faces per forward pass (default 256); memory stays a few batches of views, whatever the number of faces. */
  batchSize?: number;
}

/**
 * Class probabilities (N x 7) of faces: the softmax of each model, averaged over the test-time views
 * (ttaViews: with `tta` the face and its mirror image, as faces are left-right symmetric in what they
 * express, and for models trained on crops the 10 crops) and then over the models, each model weighing
 * the same.
 */
export async function predictFaces(models: tf.LayersModel | readonly tf.LayersModel[], pixels: Uint8Array, options: PredictOptions = {}): Promise<Float32Array> {
  const list = Array.isArray(models) ? (models as readonly tf.LayersModel[]) : [models as tf.LayersModel];
  if (list.length === 0) throw new FerError('no models to predict with');
  if (list.length > 1) checkEnsemble(list.map((model, i) => ({ name: `model ${i + 1}`, model })));
  const { cropPad } = options;
  const pads = typeof cropPad === 'object' ? cropPad : list.map(() => cropPad ?? 0);
  if (pads.length !== list.length) throw new FerError(`${pads.length} crop paddings for ${list.length} models`);
  const viewsPerModel = pads.map((cropPad) => ttaViews({ tta: options.tta, cropPad }));
  const size = pixels.length / PIXELS_PER_IMAGE;
  const batchSize = options.batchSize ?? 256;
  // plain prediction: no copies, one pass
  if (list.length === 1 && viewsPerModel[0].length === 1) return predictProbabilities(list[0], { pixels, size }, batchSize);
  const out = new Float32Array(size * NUM_CLASSES);
  // views are made a batch of faces at a time, so memory does not grow with the number of views
  const viewBuf = new Uint8Array(Math.min(size, batchSize) * PIXELS_PER_IMAGE);
  const scratch = new Uint8Array(viewBuf.length);
  const sum = new Float64Array(Math.min(size, batchSize) * NUM_CLASSES);
  for (let s = 0; s < size; s += batchSize) {
    const e = Math.min(size, s + batchSize);
    const faces = pixels.subarray(s * PIXELS_PER_IMAGE, e * PIXELS_PER_IMAGE);
    const n = (e - s) * NUM_CLASSES;
    sum.fill(0, 0, n);
    for (const [m, model] of list.entries()) {
      const views = viewsPerModel[m];
      for (const view of views) {
        const probs = await predictProbabilities(model, { pixels: faceView(faces, view, viewBuf, scratch), size: e - s }, e - s);
        for (let i = 0; i < n; i++) sum[i] += probs[i] / views.length;
      }
    }
    for (let i = 0; i < n; i++) out[s * NUM_CLASSES + i] = sum[i] / list.length;
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
  return `${['id,label', ...rows].join('\n')}\n`;
}
