import path from 'node:path';
import { readJson, writeFileAtomic, writeJson } from '../files.js';

/** One row of history.json / history.csv. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  seconds: number;
  /** Resident memory of the whole process (all threads) at the end of the epoch, MiB. */
  rss_mb?: number;
  /** tf.memory().numTensors on the main thread at the end of the epoch (flat when nothing leaks). */
  tensors?: number;
}

export async function writeHistory(runDir: string, history: EpochRecord[]): Promise<void> {
  await writeJson(path.join(runDir, 'history.json'), history);
  const cols: (keyof EpochRecord)[] = ['epoch', 'loss', 'acc', 'val_loss', 'val_acc', 'seconds'];
  if (history.some((h) => h.rss_mb !== undefined)) cols.push('rss_mb', 'tensors');
  const cell = (h: EpochRecord, c: keyof EpochRecord) => {
    const v = h[c];
    return v === undefined ? '' : c === 'epoch' || c === 'tensors' ? String(v) : String(Number(v.toPrecision(6)));
  };
  const csv = `${[cols.join(','), ...history.map((h) => cols.map((c) => cell(h, c)).join(','))].join('\n')}\n`;
  await writeFileAtomic(path.join(runDir, 'history.csv'), csv);
}

export async function readHistory(runDir: string): Promise<EpochRecord[]> {
  return readJson<EpochRecord[]>(path.join(runDir, 'history.json'), 'run directory');
}
