import type * as tf from '@tensorflow/tfjs';
import { EMOTIONS, NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import { subset, type FaceDataset } from '../data/dataset.js';
import { argmaxRows } from '../evaluation/metrics.js';
import { predictFaces, toInput } from '../evaluation/predict.js';
import { ATTRIBUTION_METHODS, SALIENCY_METHOD_TITLES, type SaliencyMethod } from './attribution/index.js';
import { featureMask, maskConcentration } from './mask-score.js';

/**
 * One face of each class from labelled faces, preferring ones the model gets right (the report shows a
 * face per class, and a map of a misread face explains the mistake, not the class).
 */
export async function facesToExplain(model: tf.LayersModel, data: FaceDataset): Promise<number[]> {
  return onePerClass(data, argmaxRows(await predictFaces(model, data.pixels)));
}

/** The first face of each class, or with `predicted` the first one predicted right (else the first). */
export function onePerClass(data: FaceDataset, predicted?: Int32Array): number[] {
  const picks: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    let first = -1;
    let right = -1;
    for (let i = 0; i < data.size && right < 0; i++) {
      if (data.labels[i] !== c) continue;
      if (first < 0) first = i;
      if (!predicted || predicted[i] === c) right = i;
    }
    const pick = right >= 0 ? right : first;
    if (pick >= 0) picks.push(pick);
  }
  return picks;
}

/** `perClass` faces of each class, the first ones, for the mask score. */
export function firstPerClass(data: FaceDataset, perClass: number): number[] {
  const taken = new Array<number>(NUM_CLASSES).fill(0);
  const out: number[] = [];
  for (let i = 0; i < data.size; i++) {
    const c = data.labels[i];
    if (c >= 0 && taken[c] < perClass) {
      taken[c]++;
      out.push(i);
    }
  }
  return out;
}

/** What one saliency map explains. */
export interface ExplainedFace {
  name: string;
  /** The true class, where known. */
  label: string | null;
  /** The class whose score the map explains: the true one where known, else the predicted one. */
  explained: string;
  predicted: string;
  /** The model's probability of its predicted class. */
  probability: number;
  /** Mask score of this face's map (synthetic faces only). */
  maskScore?: number;
}

export interface SaliencyMaps {
  method: SaliencyMethod;
  /** The faces as model input (N x 2304, 0..1) and one map per face (N x 2304, unnormalised). */
  faces: Float32Array;
  maps: Float32Array;
  perFace: ExplainedFace[];
  /** Mask score over `scoreFaces` faces with masks (synthetic faces), when asked for. */
  score?: number;
  scoreFaces?: number;
}

export interface SaliencyOptions {
  methods: SaliencyMethod[];
  /** Names for the faces (file names); class names are used otherwise. */
  names?: string[];
  /** Faces with masks (synthetic) for the mask score, and how many of each class to score (default 5). */
  scoreData?: FaceDataset;
  scorePerClass?: number;
  /** Options per method, e.g. { gradcam: { layer: 3 } }. */
  methodOptions?: Partial<Record<SaliencyMethod, object>>;
  onProgress?: (what: string) => void;
}

/**
 * Saliency maps of `faces` for each method, each explaining the face's true class where it is known,
 * else the predicted one; with `scoreData` that has masks, also each method's mask score (the share of
 * saliency inside eyes, brows and mouth over their share of the area). Computes only: @fer/viz draws.
 */
export async function saliencyMaps(model: tf.LayersModel, faces: FaceDataset, options: SaliencyOptions): Promise<SaliencyMaps[]> {
  const x = toInput(faces.pixels, 0, faces.size);
  const probs = await predictFaces(model, faces.pixels);
  const predicted = argmaxRows(probs);
  const targets = Array.from(faces.labels, (l, i) => (l >= 0 ? l : predicted[i]));
  const scoreSet = options.scoreData?.masks ? subset(options.scoreData, firstPerClass(options.scoreData, options.scorePerClass ?? 5)) : undefined;
  const scoreMask = scoreSet ? featureMask(scoreSet.masks!) : undefined;
  const faceMask = faces.masks ? featureMask(faces.masks) : undefined;
  const out: SaliencyMaps[] = [];
  for (const method of options.methods) {
    options.onProgress?.(`${SALIENCY_METHOD_TITLES[method]} on ${faces.size} faces`);
    const maps = await ATTRIBUTION_METHODS[method](model, x, targets, options.methodOptions?.[method]);
    const perFace: ExplainedFace[] = [];
    for (let i = 0; i < faces.size; i++) {
      const at = [i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE] as const;
      perFace.push({
        name: options.names?.[i] ?? (faces.labels[i] >= 0 ? EMOTIONS[faces.labels[i]] : `face ${i + 1}`),
        label: faces.labels[i] >= 0 ? EMOTIONS[faces.labels[i]] : null,
        explained: EMOTIONS[targets[i]],
        predicted: EMOTIONS[predicted[i]],
        probability: probs[i * NUM_CLASSES + predicted[i]],
        maskScore: faceMask ? maskConcentration(maps.subarray(...at), faceMask.subarray(...at)) : undefined,
      });
    }
    let score: number | undefined;
    if (scoreSet && scoreMask) {
      options.onProgress?.(`${SALIENCY_METHOD_TITLES[method]} mask score on ${scoreSet.size} faces`);
      score = maskConcentration(await ATTRIBUTION_METHODS[method](model, toInput(scoreSet.pixels, 0, scoreSet.size), scoreSet.labels, options.methodOptions?.[method]), scoreMask);
    }
    out.push({ method, faces: x, maps, perFace, score, scoreFaces: scoreSet?.size });
  }
  return out;
}
