import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  ATTRIBUTION_METHODS,
  EMOTIONS,
  NUM_CLASSES,
  PIXELS_PER_IMAGE,
  SALIENCY_METHOD_TITLES,
  argmaxRows,
  featureMask,
  maskConcentration,
  predictFaces,
  subset,
  toInput,
  type FaceDataset,
  type SaliencyMethod,
} from '@fer/core';
import type * as tf from '@tensorflow/tfjs';
import { greyPng, heatPng, imageGrid, normalizeMap, overlayPng } from './images.js';
import { writeJsonFile, writePng } from './render.js';

/**
 * One face of each class from labelled faces, preferring ones the model gets right (the report shows a
 * face per class, and a map of a misread face explains the mistake, not the class).
 */
export async function facesToExplain(model: tf.LayersModel, data: FaceDataset): Promise<number[]> {
  return onePerClass(data, argmaxRows(await predictFaces(model, data.pixels)));
}

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

export interface SaliencyOptions {
  methods: SaliencyMethod[];
  /** Names to show for the faces (file names); class names are used otherwise. */
  names?: string[];
  /** Faces per class for the mask score, where the faces have masks. */
  scorePerClass?: number;
  cellSize?: number;
  /** Options per method, e.g. { gradcam: { layer: 3 } }. */
  methodOptions?: Partial<Record<SaliencyMethod, object>>;
  onProgress?: (what: string) => void;
}

export interface SaliencyResult {
  /** One grid PNG per method. */
  grids: Record<string, string>;
  /** Mask score per method (synthetic faces only). */
  scores?: Record<string, number>;
  scoreFaces?: number;
  files: string[];
}

/**
 * Saliency maps of `faces` for each method, as one grid PNG per method (face, map, overlay for each
 * face) in `outDir`, with a JSON beside each. Each map explains the face's true class where it is
 * known, else the predicted one. With `scoreData` that has masks (synthetic faces), also the share of
 * saliency inside eyes, brows and mouth over their share of the area: scores.json, {method: score}.
 */
export async function saliencyToDir(model: tf.LayersModel, faces: FaceDataset, outDir: string, options: SaliencyOptions & { scoreData?: FaceDataset }): Promise<SaliencyResult> {
  const cell = options.cellSize ?? 120;
  const x = toInput(faces.pixels, 0, faces.size);
  const probs = await predictFaces(model, faces.pixels);
  const predicted = argmaxRows(probs);
  const targets = Array.from(faces.labels, (l, i) => (l >= 0 ? l : predicted[i]));
  const files: string[] = [];
  const grids: Record<string, string> = {};
  let scores: Record<string, number> | undefined;
  let scoreSet: FaceDataset | undefined;
  if (options.scoreData?.masks) scoreSet = subset(options.scoreData, firstPerClass(options.scoreData, options.scorePerClass ?? 5));
  const scoreMask = scoreSet ? featureMask(scoreSet.masks!) : undefined;
  const faceMask = faces.masks ? featureMask(faces.masks) : undefined;

  for (const method of options.methods) {
    options.onProgress?.(`${SALIENCY_METHOD_TITLES[method]} on ${faces.size} faces`);
    const maps = await ATTRIBUTION_METHODS[method](model, x, targets, options.methodOptions?.[method]);
    const cells: Buffer[][] = [[], [], []];
    const perFace = [];
    for (let i = 0; i < faces.size; i++) {
      const face = x.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE);
      const map = normalizeMap(maps.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE));
      cells[0].push(await greyPng(face, cell));
      cells[1].push(await heatPng(map, cell));
      cells[2].push(await overlayPng(face, map, cell));
      perFace.push({
        name: options.names?.[i] ?? (faces.labels[i] >= 0 ? EMOTIONS[faces.labels[i]] : `face ${i + 1}`),
        label: faces.labels[i] >= 0 ? EMOTIONS[faces.labels[i]] : null,
        explained: EMOTIONS[targets[i]],
        predicted: EMOTIONS[predicted[i]],
        probability: probs[i * NUM_CLASSES + predicted[i]],
        maskScore: faceMask ? maskConcentration(maps.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE), faceMask.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE)) : undefined,
      });
    }
    let score: number | undefined;
    if (scoreSet && scoreMask) {
      options.onProgress?.(`${SALIENCY_METHOD_TITLES[method]} mask score on ${scoreSet.size} faces`);
      score = maskConcentration(await ATTRIBUTION_METHODS[method](model, toInput(scoreSet.pixels, 0, scoreSet.size), scoreSet.labels, options.methodOptions?.[method]), scoreMask);
      (scores ??= {})[method] = score;
    }
    const columnLabels = perFace.map((f) => (f.label ? `${f.name}` : f.name.length > 16 ? f.name.slice(0, 15) + '…' : f.name));
    const footer = perFace.some((f) => f.label)
      ? [`each column: a face, the ${SALIENCY_METHOD_TITLES[method]} map of its true class, and both overlaid; under it the model's prediction.`]
      : [`each column: a face, the ${SALIENCY_METHOD_TITLES[method]} map of the predicted class, and both overlaid.`];
    const predictions = perFace.map((f) => `${f.name}: ${f.predicted} ${(100 * f.probability).toFixed(0)}%`);
    footer.push(`predicted: ${predictions.join(', ')}`.slice(0, 220));
    const grid = imageGrid({
      title: `${SALIENCY_METHOD_TITLES[method]} saliency (${model.name})`,
      subtitle: score !== undefined ? `mask score ${score.toFixed(2)} (saliency share in eyes, brows and mouth / their area share; 1.0 = random) on ${scoreSet!.size} faces` : undefined,
      columnLabels,
      rowLabels: ['face', 'map', 'overlay'],
      cells,
      cellSize: cell,
      footer,
    });
    grids[method] = await writePng(path.join(outDir, `${method}.png`), grid.png);
    files.push(grids[method], await writeJsonFile(path.join(outDir, `${method}.json`), { method, title: SALIENCY_METHOD_TITLES[method], model: model.name, score, faces: perFace }));
  }
  if (scores) {
    // one method at a time adds to the scores of the others instead of replacing them
    const file = path.join(outDir, 'scores.json');
    const earlier = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, number>) : {};
    files.push(await writeJsonFile(file, { ...earlier, ...scores }));
  }
  return { grids, scores, scoreFaces: scoreSet?.size, files };
}
