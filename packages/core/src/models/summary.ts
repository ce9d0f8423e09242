import type * as tf from '@tensorflow/tfjs';
import { isConv2DLayer } from './layers.js';

export interface LayerRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  trainable: number;
  nonTrainable: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerRow[];
  trainable: number;
  nonTrainable: number;
}

const count = (ws: tf.LayerVariable[]) => ws.reduce((s, w) => s + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);

/** The layer table: output shapes and trainable / non-trainable parameter counts. */
export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers = model.layers.map((l) => ({
    name: l.name,
    type: isConv2DLayer(l) ? 'Conv2D' : l.getClassName(),
    outputShape: l.outputShape as (number | null)[],
    trainable: count(l.trainableWeights),
    nonTrainable: count(l.nonTrainableWeights),
  }));
  return {
    name: model.name,
    layers,
    trainable: layers.reduce((s, l) => s + l.trainable, 0),
    nonTrainable: layers.reduce((s, l) => s + l.nonTrainable, 0),
  };
}

/** The summary as a plain-text table. */
export function formatSummary(s: ModelSummary): string {
  const rows = s.layers.map((l) => [
    l.name,
    l.type,
    `(${l.outputShape.map((d) => d ?? 'N').join(', ')})`,
    l.trainable.toLocaleString('en-US'),
    l.nonTrainable.toLocaleString('en-US'),
  ]);
  const head = ['layer', 'type', 'output shape', 'trainable', 'non-trainable'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `model: ${s.name}`,
    fmt(head),
    rule,
    ...rows.map(fmt),
    rule,
    `trainable parameters:     ${s.trainable.toLocaleString('en-US')}`,
    `non-trainable parameters: ${s.nonTrainable.toLocaleString('en-US')} (BatchNorm running mean and variance)`,
  ].join('\n');
}
