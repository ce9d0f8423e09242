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
    expect(table).toMatch(/^seed model throughput/);
    expect(table).not.toContain('vs torch');
  });

  it('measures another model by name, in the workers too', async () => {
    tf.env().set('PROD', true);
    const r = await runBench({ model: 'vgg', backends: ['wasm'], batches: [4], seconds: 0.05, rounds: 1, workers: 2, torch: false });
    expect(r.model).toBe('vgg');
    expect(r.results.map((x) => x.backend)).toEqual(['wasm', 'wasm-parallel']);
    for (const row of r.results) expect(row.trainImagesPerSec).toBeGreaterThan(0);
    expect(formatBenchTable(r)).toMatch(/^vgg model throughput/);
  });

  it('prints ratios to PyTorch at the same batch, at its default thread count and with every core', () => {
    const r: BenchResult = {
      machine: { cpu: 'x', cores: 2, platform: 'linux-x64', loadAverage: { start: [0, 0, 0], end: [0, 0, 0] } },
      date: '2026-01-01T00:00:00Z',
      versions: { tfjs: '4.22.0', torch: '1.13' },
      model: 'vgg',
      results: [
        { backend: 'wasm', batch: 64, trainImagesPerSec: 100, inferImagesPerSec: 400, workers: 1 },
        { backend: 'wasm-parallel', batch: 64, trainImagesPerSec: 180, inferImagesPerSec: 700, workers: 2 },
      ],
      torch: [{ batch: 64, threads: 1, trainImagesPerSec: 200, inferImagesPerSec: 400 }],
      torchAllCores: [{ batch: 64, threads: 2, trainImagesPerSec: 300, inferImagesPerSec: 500 }],
      torchThreads: 1,
      torchAllCoresThreads: 2,
    };
    const t = formatBenchTable(r);
    expect(t).toMatch(/^vgg model throughput/);
    expect(t).toMatch(/train vs torch\s+infer vs torch\s+train vs torch-all\s+infer vs torch-all/);
    expect(t).toMatch(/pytorch 1\.13\s+1\s+64\s+200\.0\s+400\.0\s+1\.00x\s+1\.00x\s+0\.67x\s+0\.80x/);
    expect(t).toMatch(/pytorch 1\.13 all cores\s+2\s+64\s+300\.0\s+500\.0\s+1\.50x\s+1\.25x\s+1\.00x\s+1\.00x/);
    expect(t).toMatch(/wasm\s+1\s+64\s+100\.0\s+400\.0\s+0\.50x\s+1\.00x\s+0\.33x\s+0\.80x/);
    expect(t).toMatch(/wasm-parallel\s+2\s+64\s+180\.0\s+700\.0\s+0\.90x\s+1\.75x\s+0\.60x\s+1\.40x/);
    // rows by batch: PyTorch default, PyTorch every core, then ours
    const names = t.split('\n').map((l) => l.split(/\s{2,}/)[0]);
    expect(names.indexOf('pytorch 1.13')).toBeLessThan(names.indexOf('pytorch 1.13 all cores'));
    expect(names.indexOf('pytorch 1.13 all cores')).toBeLessThan(names.indexOf('wasm'));
    expect(t).toContain(
      'batch 64: ours at best (wasm-parallel, 2 workers): 0.90x train / 1.75x infer vs PyTorch default (1 thread); 0.60x train / 1.40x infer vs PyTorch with every core (2 threads)',
    );
  });

  it('without the every-core rows prints only the default ratios', () => {
    const r: BenchResult = {
      machine: { cpu: 'x', cores: 2, platform: 'linux-x64', loadAverage: { start: [0, 0, 0], end: [0, 0, 0] } },
      date: '2026-01-01T00:00:00Z',
      versions: { tfjs: '4.22.0', torch: '1.13' },
      model: 'seed',
      results: [{ backend: 'wasm', batch: 64, trainImagesPerSec: 100, inferImagesPerSec: 400, workers: 1 }],
      torch: [{ batch: 64, trainImagesPerSec: 200, inferImagesPerSec: 400 }],
      torchThreads: 1,
    };
    const t = formatBenchTable(r);
    expect(t).toMatch(/wasm\s+1\s+64\s+100\.0\s+400\.0\s+0\.50x\s+1\.00x$/m);
    expect(t).not.toContain('torch-all');
  });
});
