import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import {
  classificationReport,
  createRunJson,
  defaultRunConfig,
  loadRunData,
  runSplit,
  saveModel,
  selectBackend,
  tinyCnn,
  writeJson,
  writeRunJson,
  type EpochRecord,
} from '@fer/core';
import { plotHistory } from './plots.js';
import { vegaLiteToSvg } from './render.js';
import { confusionSpec } from './confusion.js';
import { colormap, normalizeMap } from './images.js';
import { writeReport } from './report.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: string;

const history: EpochRecord[] = [1, 2, 3].map((e) => ({ epoch: e, loss: 2 / e, acc: 0.3 * e, val_loss: 2.2 / e, val_acc: 0.25 * e, seconds: 10 }));

beforeAll(async () => {
  await selectBackend('wasm');
  dir = await mkdtemp(path.join(os.tmpdir(), 'fer-viz-'));
  await writeJson(path.join(dir, 'history.json'), history);
  const backend = await selectBackend('wasm');
  const config = defaultRunConfig('synthetic', { model: 'tiny', synthetic: { count: 84, trainRows: 70, seed: 1 }, trainRows: 70 });
  const data = await loadRunData(config);
  await writeRunJson(
    dir,
    createRunJson({ runDir: dir, command: 'fer train (test)', config, data, split: runSplit(config, data), backend, threads: 1, tfjsVersion: tf.version.tfjs, dataLoadSeconds: 0 }),
  );
  await saveModel(tinyCnn(), path.join(dir, 'model'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('plots', () => {
  it('plotHistory draws both curves of both metrics to SVG and PNG', async () => {
    const p = await plotHistory(dir);
    const svg = await readFile(p.loss.svg, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('validation');
    expect(svg).toContain('training');
    // two line marks, one per split
    expect((svg.match(/mark-line role-mark/g) ?? []).length).toBe(2);
    const meta = await sharp(p.accuracy.png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(600);
    // not a blank page: the curves' colours are in it
    const { data, info } = await sharp(p.accuracy.png).raw().toBuffer({ resolveWithObject: true });
    let orange = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i] > 230 && data[i + 1] > 100 && data[i + 1] < 150 && data[i + 2] < 40) orange++;
    expect(orange).toBeGreaterThan(100);
  });

  it('the confusion heatmap has every class name and every count in its cells', async () => {
    const c = Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => (i === j ? 40 + i : i + j)));
    const svg = await vegaLiteToSvg(confusionSpec(classificationReport(c), false));
    for (const name of ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']) expect(svg).toContain(`>${name}<`);
    expect(svg).toContain('>46<');
    expect(svg).toContain('>11<');
  });
});

describe('colour helpers', () => {
  it('colormap runs dark to bright and normalizeMap clips at the percentile', () => {
    const lut = colormap();
    expect(lut[0] + lut[1] + lut[2]).toBeLessThan(30);
    expect(lut[765] + lut[766] + lut[767]).toBeGreaterThan(500);
    const m = normalizeMap(Float32Array.from({ length: 1000 }, (_, i) => (i === 999 ? 1e6 : i)));
    expect(m[999]).toBe(1);
    expect(m[500]).toBeCloseTo(500 / 990, 5);
  });
});

describe('report', () => {
  it('writes a self-contained page that renders in headless Chromium with every image', async () => {
    const file = await writeReport(dir, { quick: true });
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const part of ['Model architecture', 'Training history', 'Confusion matrix', 'Saliency maps', 'filters respond', 'mask score', 'conv2']) expect(html).toContain(part);
    for (const f of ['evaluate/confusion_counts.png', 'saliency/gradcam.png', 'saliency/scores.json', 'filters/maximized.png', 'filters/responses.png'])
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    const scores = JSON.parse(await readFile(path.join(dir, 'saliency', 'scores.json'), 'utf8'));
    expect(Object.keys(scores).sort()).toEqual(['gradcam', 'ig', 'smoothgrad', 'vanilla']);

    if (!existsSync(CHROMIUM)) {
      console.warn(`SKIPPED the browser half of this test: ${CHROMIUM} is absent (apt-get install chromium)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => !r.url().startsWith('data:') && !r.url().startsWith('file:') && requests.push(r.url()));
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ alt: i.alt, w: (i as unknown as { naturalWidth: number }).naturalWidth })));
      expect(images.length).toBeGreaterThanOrEqual(10);
      for (const img of images) expect(img.w, img.alt).toBeGreaterThan(0);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('says clearly when the run has no model', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'fer-viz-empty-'));
    try {
      await mkdir(path.join(empty, 'checkpoints'));
      await writeFile(path.join(empty, 'run.json'), '{}');
      await expect(writeReport(empty)).rejects.toThrow(/no model\/ directory/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
