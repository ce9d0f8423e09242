import path from 'node:path';
import { EMOTIONS, convLayers, filterResponses, maximizeFilters, pickConvLayer, randomFilters, toInput, type MaximizeOptions } from '@fer/core';
import type * as tf from '@tensorflow/tfjs';
import { greyPng, heatPng, imageGrid, minMax, overlayPng, upsample } from './images.js';
import { writeJsonFile, writePng } from './render.js';

export interface FiltersOptions {
  /** 1-based conv layer for activation maximisation; default the last. */
  layer?: number;
  count?: number;
  seed?: number;
  maximize?: MaximizeOptions;
  /** The face whose filter responses to show (48x48 bytes) and what to call it. */
  face?: { pixels: Uint8Array; name: string; label?: number };
  /** Conv layer for the responses; default the 4th (the report's), or the last if there are fewer. */
  responseLayer?: number;
  onProgress?: (what: string) => void;
}

export interface FiltersResult {
  maximized: string;
  responses?: string;
  files: string[];
}

const columns = (n: number) => (n <= 5 ? n : Math.ceil(n / 2));
function chunk<T>(a: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(a.slice(i, i + size));
  return out;
}

/**
 * What the filters of a conv layer respond to: the input that maximises each of `count` random filters
 * (filters/maximized.png), and, given a face, those filters' responses to it (filters/responses.png).
 */
export async function filtersToDir(model: tf.LayersModel, outDir: string, options: FiltersOptions = {}): Promise<FiltersResult> {
  const count = options.count ?? 10;
  const seed = options.seed ?? 0;
  const conv = pickConvLayer(model, options.layer);
  const channels = (conv.outputShape as number[])[3];
  const chosen = randomFilters(channels, count, seed);
  options.onProgress?.(`activation maximisation of ${chosen.length} filters of ${conv.name}`);
  const t0 = performance.now();
  const max = await maximizeFilters(model, options.layer, chosen, { seed, ...options.maximize });
  const seconds = (performance.now() - t0) / 1000;
  const cell = 110;
  const pngs = await Promise.all(chosen.map((_, i) => greyPng(minMax(max.images.subarray(i * 2304, (i + 1) * 2304)), cell)));
  const cols = columns(chosen.length);
  const files: string[] = [];
  const maximizedGrid = imageGrid({
    title: `What filters of ${conv.name} respond to most (${model.name})`,
    subtitle: `gradient ascent from noise, ${options.maximize?.steps ?? 120} steps, jitter, total-variation and blur regularisation; mean response under each`,
    cells: chunk(pngs, cols),
    cellCaptions: chunk(
      chosen.map((f, i) => `#${f}: ${max.activations[i].toFixed(2)}`),
      cols,
    ),
    cellSize: cell,
    footer: ['each image is scaled to its own min..max; a pattern repeated across it is what the filter detects wherever it occurs'],
  });
  const maximized = await writePng(path.join(outDir, 'maximized.png'), maximizedGrid.png);
  files.push(
    maximized,
    await writeJsonFile(path.join(outDir, 'maximized.json'), { layer: conv.name, filters: chosen, activations: max.activations, seconds, options: options.maximize ?? {} }),
  );

  let responses: string | undefined;
  if (options.face) {
    const convs = convLayers(model);
    const layerNo = options.responseLayer ?? Math.min(4, convs.length);
    const rconv = pickConvLayer(model, layerNo);
    const rchannels = (rconv.outputShape as number[])[3];
    const rchosen = randomFilters(rchannels, count, seed + 1);
    options.onProgress?.(`responses of ${rchosen.length} filters of ${rconv.name} to ${options.face.name}`);
    const r = await filterResponses(model, layerNo, toInput(options.face.pixels, 0, 1), rchosen);
    const maps = rchosen.map((_, i) => r.maps.subarray(i * r.size * r.size, (i + 1) * r.size * r.size));
    // one scale for all maps, so a weak filter looks weak
    let top = 0;
    for (const m of maps) for (const v of m) top = Math.max(top, v);
    const scaled = maps.map((m) => Float32Array.from(m, (v) => Math.max(0, v) / (top || 1)));
    const rcell = 92;
    const mapPngs = await Promise.all(scaled.map((m) => heatPng(m, rcell, 'nearest')));
    const faceValues = toInput(options.face.pixels, 0, 1);
    const overlays = await Promise.all(scaled.map((m) => overlayPng(faceValues, upsample(m), rcell)));
    const facePng = await greyPng(faceValues, rcell);
    const label = options.face.label !== undefined && options.face.label >= 0 ? ` (${EMOTIONS[options.face.label]})` : '';
    const grid = imageGrid({
      title: `Responses of ${rchosen.length} random filters of ${rconv.name} to one face (${model.name})`,
      subtitle: `${options.face.name}${label}; ${r.size}x${r.size} maps after the activation, one colour scale for all (bright = strong)`,
      columnLabels: ['face', ...rchosen.map((f) => `#${f}`)],
      rowLabels: ['response', 'on the face'],
      cells: [
        [facePng, ...mapPngs],
        [null, ...overlays],
      ],
      cellSize: rcell,
      gap: 4,
    });
    responses = await writePng(path.join(outDir, 'responses.png'), grid.png);
    files.push(
      responses,
      await writeJsonFile(path.join(outDir, 'responses.json'), { layer: rconv.name, face: options.face.name, filters: rchosen, size: r.size, maxResponse: top }),
    );
  }
  return { maximized, responses, files };
}
