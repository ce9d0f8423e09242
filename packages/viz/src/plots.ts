import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { readHistory, type EpochRecord } from '@fer/core';
import { vegaLiteToSvg, writeSvgAndPng } from './render.js';

type Metric = 'loss' | 'accuracy';

/** Training and validation curves of one metric as a Vega-Lite line chart. */
export function historySpec(history: EpochRecord[], metric: Metric, title?: string): TopLevelSpec {
  const [trainKey, valKey] = metric === 'loss' ? (['loss', 'val_loss'] as const) : (['acc', 'val_acc'] as const);
  const values = history.flatMap((h) => [
    { epoch: h.epoch, split: 'training', value: h[trainKey] },
    { epoch: h.epoch, split: 'validation', value: h[valKey] },
  ]);
  const best = metric === 'loss' ? Math.min(...history.map((h) => h.val_loss)) : Math.max(...history.map((h) => h.val_acc));
  const bestEpoch = history.find((h) => h[valKey] === best)?.epoch;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title ?? (metric === 'loss' ? 'Loss (cross-entropy)' : 'Accuracy'),
      subtitle: bestEpoch ? `best validation ${metric === 'loss' ? best.toFixed(3) : `${(100 * best).toFixed(1)}%`} at epoch ${bestEpoch}` : undefined,
    },
    width: 420,
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: history.length <= 40, strokeWidth: 2 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domainMin: history.length > 1 ? 1 : 0 } },
          y: {
            field: 'value',
            type: 'quantitative',
            title: metric,
            axis: metric === 'accuracy' ? { format: '.1~%' } : {},
            scale: { zero: metric !== 'accuracy' },
          },
          color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] }, legend: { orient: 'bottom-right' } },
        },
      },
    ],
  };
}

export interface HistoryPlots {
  loss: { svg: string; png: string };
  accuracy: { svg: string; png: string };
}

/**
 * Loss and accuracy curves, training against validation, from runDir/history.json, to
 * runDir/plots/{loss,accuracy}.{svg,png}. `fer train` calls it after every epoch.
 */
export async function plotHistory(runDir: string, history?: EpochRecord[]): Promise<HistoryPlots> {
  const h = history ?? (await readHistory(runDir));
  const dir = path.join(runDir, 'plots');
  const loss = await writeSvgAndPng(path.join(dir, 'loss'), await vegaLiteToSvg(historySpec(h, 'loss')));
  const accuracy = await writeSvgAndPng(path.join(dir, 'accuracy'), await vegaLiteToSvg(historySpec(h, 'accuracy')));
  return { loss, accuracy };
}
