import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runBench, type BenchResult } from './bench.js';
import { formatBenchTable } from './format.js';

describe('runBench', () => {
  it('measures the wasm backend, single and data-parallel, and formats the table', async () => {
    tf.env().set('PROD', true);
    const r = await runBench({ backends: ['wasm'], batches: [4], seconds: 0.05, rounds: 1, workers: 2, torch: false });
    expect(r.results.map((x) => x.backend)).toEqual(['wasm', 'wasm-parallel']);
    for (const row of r.results) {
      expect(row.batch).toBe(4);
      expect(row.trainImagesPerSec).toBeGreaterThan(0);
      expect(row.inferImagesPerSec).toBeGreaterThan(0);
    }
    expect(r.dataLoading!.csvRowsPerSec).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(r))).toMatchObject({ machine: { cores: expect.any(Number) }, versions: { tfjs: tf.version.tfjs } });
    const table = formatBenchTable(r);
    expect(table).toContain('wasm-parallel');
    expect(table).not.toContain('vs torch');
  });

  it('prints ratios to PyTorch at the same batch', () => {
    const r: BenchResult = {
      machine: { cpu: 'x', cores: 2, platform: 'linux-x64', loadAverage: { start: [0, 0, 0], end: [0, 0, 0] } },
      date: '2026-01-01T00:00:00Z',
      versions: { tfjs: '4.22.0', torch: '1.13' },
      results: [{ backend: 'wasm', batch: 64, trainImagesPerSec: 100, inferImagesPerSec: 400, workers: 1 }],
      torch: [{ batch: 64, trainImagesPerSec: 200, inferImagesPerSec: 400 }],
    };
    const t = formatBenchTable(r);
    expect(t).toMatch(/wasm\s+1\s+64\s+100\.0\s+400\.0\s+0\.50x\s+1\.00x/);
  });
});
