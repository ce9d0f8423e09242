import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PIXELS_PER_IMAGE, loadDataset, syntheticFaces } from '@fer/core';
import { rate } from './measure.js';

/** Parsing a Kaggle CSV (rows/s) and turning bytes into a float batch (images/s). */
export async function measureDataLoading(): Promise<{ csvRowsPerSec: number; batchImagesPerSec: number }> {
  const rows = 2000;
  const d = syntheticFaces({ count: rows, seed: 2 });
  const dir = mkdtempSync(join(os.tmpdir(), 'fer-bench-'));
  try {
    const lines = ['emotion,pixels,Usage'];
    for (let i = 0; i < rows; i++) lines.push(`${d.labels[i]},${Array.from(d.pixels.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE)).join(' ')},Training`);
    const file = join(dir, 'fer2013.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const t0 = performance.now();
    await loadDataset(file);
    const csvRowsPerSec = rows / ((performance.now() - t0) / 1000);
    const batch = 128;
    const perSec = await rate(() => {
      const x = new Float32Array(batch * PIXELS_PER_IMAGE);
      for (let i = 0; i < x.length; i++) x[i] = d.pixels[i] / 255;
      return x;
    }, 0.5);
    return { csvRowsPerSec, batchImagesPerSec: perSec * batch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
