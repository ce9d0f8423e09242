import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PIXELS_PER_IMAGE, SALIENCY_METHOD_TITLES, saliencyMaps, type FaceDataset, type SaliencyOptions } from '@fer/core';
import type * as tf from '@tensorflow/tfjs';
import { greyPng, heatPng, imageGrid, normalizeMap, overlayPng } from './images.js';
import { writeJsonFile, writePng } from './render.js';

export interface SaliencyResult {
  /** One grid PNG per method. */
  grids: Record<string, string>;
  /** Mask score per method (synthetic faces only). */
  scores?: Record<string, number>;
  scoreFaces?: number;
  files: string[];
}

/**
 * Saliency maps of `faces` for each method (computed by core's saliencyMaps), drawn as one grid PNG per
 * method (face, map, overlay for each face) in `outDir`, with a JSON beside each; with mask scores
 * (synthetic faces), also scores.json, {method: score}.
 */
export async function saliencyToDir(model: tf.LayersModel, faces: FaceDataset, outDir: string, options: SaliencyOptions & { cellSize?: number }): Promise<SaliencyResult> {
  const cell = options.cellSize ?? 120;
  const files: string[] = [];
  const grids: Record<string, string> = {};
  let scores: Record<string, number> | undefined;
  let scoreFaces: number | undefined;
  for (const { method, faces: x, maps, perFace, score, scoreFaces: scored } of await saliencyMaps(model, faces, options)) {
    const cells: Buffer[][] = [[], [], []];
    for (let i = 0; i < faces.size; i++) {
      const face = x.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE);
      const map = normalizeMap(maps.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE));
      cells[0].push(await greyPng(face, cell));
      cells[1].push(await heatPng(map, cell));
      cells[2].push(await overlayPng(face, map, cell));
    }
    if (score !== undefined) {
      scores = { ...scores, [method]: score };
      scoreFaces = scored;
    }
    const columnLabels = perFace.map((f) => (f.label ? `${f.name}` : f.name.length > 16 ? `${f.name.slice(0, 15)}…` : f.name));
    const footer = perFace.some((f) => f.label)
      ? [`each column: a face, the ${SALIENCY_METHOD_TITLES[method]} map of its true class, and both overlaid; under it the model's prediction.`]
      : [`each column: a face, the ${SALIENCY_METHOD_TITLES[method]} map of the predicted class, and both overlaid.`];
    const predictions = perFace.map((f) => `${f.name}: ${f.predicted} ${(100 * f.probability).toFixed(0)}%`);
    footer.push(`predicted: ${predictions.join(', ')}`.slice(0, 220));
    const grid = imageGrid({
      title: `${SALIENCY_METHOD_TITLES[method]} saliency (${model.name})`,
      subtitle: score !== undefined ? `mask score ${score.toFixed(2)} (saliency share in eyes, brows and mouth / their area share; 1.0 = random) on ${scored} faces` : undefined,
      columnLabels,
      rowLabels: ['face', 'map', 'overlay'],
      cells,
      cellSize: cell,
      footer,
    });
    grids[method] = await writePng(path.join(outDir, `${method}.png`), grid.png);
    files.push(
      grids[method],
      await writeJsonFile(path.join(outDir, `${method}.json`), { method, title: SALIENCY_METHOD_TITLES[method], model: model.name, score, faces: perFace }),
    );
  }
  if (scores) {
    // one method at a time adds to the scores of the others instead of replacing them
    const file = path.join(outDir, 'scores.json');
    const earlier = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, number>) : {};
    files.push(await writeJsonFile(file, { ...earlier, ...scores }));
  }
  return { grids, scores, scoreFaces, files };
}
