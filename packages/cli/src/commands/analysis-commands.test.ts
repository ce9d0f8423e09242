import { describe, expect, it, beforeAll, afterAll, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { heatPng } from '@fer/viz';
import * as tf from '@tensorflow/tfjs';
import {
  EMOTIONS,
  buildModel,
  createRunJson,
  defaultRunConfig,
  loadFaceImage,
  loadRunData,
  loadRunModel,
  predictFaces,
  readRunJson,
  runSplit,
  runValidationData,
  saveModel,
  scorePredictions,
  selectBackend,
  writeRunJson,
} from '@fer/core';
import { main } from '../main.js';

let root: string;

function tinyCnn(inputShape = [48, 48, 1]) {
  const m = tf.sequential({ name: 'tiny' });
  m.add(tf.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, padding: 'same', name: 'conv1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.reLU({ name: 'relu1' }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: 7, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

/** Runs `fer args...` in-process; returns the exit code and what it printed. */
async function fer(...args: string[]) {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, text: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

/** A run directory's run.json for synthetic faces, as `fer train` writes it. */
async function writeSyntheticRunJson(runDir: string, synthetic: { count: number; trainRows: number; seed: number }, augment?: { crop?: number }) {
  const backend = await selectBackend('wasm');
  const config = { ...defaultRunConfig('synthetic', { synthetic, trainRows: synthetic.trainRows }), ...(augment ? { augment } : {}) };
  const data = await loadRunData(config);
  await writeRunJson(
    runDir,
    createRunJson({ runDir, command: 'fer train (test)', config, data, split: runSplit(config, data), backend, threads: 1, tfjsVersion: tf.version.tfjs, dataLoadSeconds: 0 }),
  );
}

beforeAll(async () => {
  await selectBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-analysis-'));
  const run = path.join(root, 'run');
  await saveModel(tinyCnn(), path.join(run, 'model'));
  await writeSyntheticRunJson(run, { count: 56, trainRows: 42, seed: 2 });
  // a second run on the same split: another model, trained (so says its run.json) on 2-pixel pad-and-crop
  const run2 = path.join(root, 'run2');
  await saveModel(buildModel('tiny', { seed: 5 }), path.join(run2, 'model'));
  await writeSyntheticRunJson(run2, { count: 56, trainRows: 42, seed: 2 }, { crop: 2 });
  await saveModel(tinyCnn([32, 32, 3]), path.join(root, 'rgb', 'model'));
  await mkdir(path.join(root, 'empty'));
  // a colour PNG of another size: predict must turn it into 48x48 grey itself
  await writeFile(
    path.join(root, 'face.png'),
    await heatPng(
      Float32Array.from({ length: 2304 }, (_, i) => (i % 48) / 48),
      120,
    ),
  );
  await writeFile(path.join(root, 'broken.png'), 'this is not a PNG');
  await writeFile(path.join(root, 'test.csv'), `id,feature\n7,${new Array(2304).fill(128).join(' ')}\n8,${new Array(2304).fill(30).join(' ')}\n`);
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('fer evaluate / predict errors', () => {
  it('a run directory without a model: a clear message and exit 1', async () => {
    const r = await fer('evaluate', '--run', path.join(root, 'empty'));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/has no model\/ directory/);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
  it('an unreadable image: names the file, exit 1', async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'broken.png'));
    expect(r.code).toBe(1);
    expect(r.text).toContain('broken.png is not a readable image');
  });
  it('a model whose input is not 48x48x1: exit 1', async () => {
    const r = await fer('saliency', '--run', path.join(root, 'rgb'));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/not 48x48x1/);
  });
});

describe('fer predict', () => {
  it('classifies an image of any size and colour, as JSON with 7 probabilities summing to 1', async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'face.png'), '--json', '--tta');
    expect(r.code).toBe(0);
    const [p] = JSON.parse(r.text);
    const probs = Object.values(p.probabilities) as number[];
    expect(probs).toHaveLength(7);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.emotion).toBe(Object.entries(p.probabilities).sort((a, b) => (b[1] as number) - (a[1] as number))[0][0]);
  });
  it('writes an id,label submission for a test CSV', async () => {
    const out = path.join(root, 'sub.csv');
    const r = await fer('predict', '--run', path.join(root, 'run'), '--data', path.join(root, 'test.csv'), '--submission', out);
    expect(r.code).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^id,label\n7,[0-6]\n8,[0-6]\n$/);
  });
});

describe('fer evaluate', () => {
  it("scores the run's validation split and writes pictures with JSON beside them", async () => {
    const r = await fer('evaluate', '--run', path.join(root, 'run'));
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/accuracy \d+\.\d\d%/);
    expect(r.text).toContain('14 faces');
    for (const f of ['evaluation.json', 'confusion_counts.png', 'confusion_counts.json', 'confusion_normalized.svg', 'class_metrics.png'])
      expect(existsSync(path.join(root, 'run', 'evaluate', f)), f).toBe(true);
    const ev = JSON.parse(await readFile(path.join(root, 'run', 'evaluate', 'evaluation.json'), 'utf8'));
    expect(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(14);
  });
});

describe('ensembles: several --run', () => {
  /** What core gives for the two runs averaged on the first run's validation split. */
  async function coreAverage(options: { tta?: boolean; cropPad?: number[] } = {}) {
    const models = [await loadRunModel(path.join(root, 'run')), await loadRunModel(path.join(root, 'run2'))];
    const data = await runValidationData((await readRunJson(path.join(root, 'run'))).config);
    return scorePredictions(await predictFaces(models, data.pixels, options), data.labels);
  }
  const printed = (text: string) => {
    const m = text.match(/accuracy (\d+\.\d\d)%\s+loss (\d+\.\d{4})/);
    expect(m, text).not.toBeNull();
    return { accuracy: m?.[1], loss: m?.[2] };
  };

  it("fer evaluate --run A --run B scores the average of the runs' probabilities", async () => {
    const out = path.join(root, 'ensemble-eval');
    const r = await fer('evaluate', '--run', path.join(root, 'run'), '--run', path.join(root, 'run2'), '--out', out);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toContain('averaging 2 runs');
    expect(r.text).toContain('(average of 2 runs)');
    expect(r.text).toContain('14 faces');
    expect(r.text).not.toContain('note:'); // same split: nothing to warn about
    const ev = await coreAverage();
    expect(printed(r.text)).toEqual({ accuracy: (100 * ev.accuracy).toFixed(2), loss: ev.loss.toFixed(4) });
    const json = JSON.parse(await readFile(path.join(out, 'evaluation.json'), 'utf8'));
    expect(json.models).toBe(2);
    expect(json.loss).toBeCloseTo(ev.loss, 6);
    expect(existsSync(path.join(root, 'run2', 'evaluate'))).toBe(false);
  });

  it('with --tta each run gets its own views: flips, and the 10 crops of its own padding for a run trained on crops', async () => {
    const r = await fer('evaluate', '--run', path.join(root, 'run'), '--run', path.join(root, 'run2'), '--tta');
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/run: TTA flip/);
    expect(r.text).toMatch(/run2: TTA 10 crops .*±2 px/);
    // written beside the run's own evaluation, not over it (fer report shows DIR/evaluate as the run's)
    expect(r.text).toContain(`wrote ${path.join(root, 'run', 'evaluate-ensemble-2-tta')}/`);
    const ev = await coreAverage({ tta: true, cropPad: [0, 2] });
    expect(printed(r.text)).toEqual({ accuracy: (100 * ev.accuracy).toFixed(2), loss: ev.loss.toFixed(4) });
    const json = JSON.parse(await readFile(path.join(root, 'run', 'evaluate-ensemble-2-tta', 'evaluation.json'), 'utf8'));
    expect(json).toMatchObject({ tta: true, cropPad: [0, 2], models: 2 });
    // the run's own evaluation (written by the single-run test above) is still the plain one of one model
    const own = JSON.parse(await readFile(path.join(root, 'run', 'evaluate', 'evaluation.json'), 'utf8'));
    expect(own.models ?? 1).toBe(1);
    expect(own.tta ?? false).toBe(false);
  });

  it('fer predict --run A --run B face.png --json prints the averaged probabilities', async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), '--run', path.join(root, 'run2'), path.join(root, 'face.png'), '--json');
    expect(r.code, r.text).toBe(0);
    const [p] = JSON.parse(r.text);
    const face = await loadFaceImage(path.join(root, 'face.png'));
    const expected = await predictFaces([await loadRunModel(path.join(root, 'run')), await loadRunModel(path.join(root, 'run2'))], face);
    for (const [c, name] of EMOTIONS.entries()) expect(p.probabilities[name]).toBeCloseTo(expected[c], 6);
  });

  it('a pair with an RGB model fails with exit 1 and says which run and why', async () => {
    for (const command of [
      ['evaluate', '--run', path.join(root, 'run'), '--run', path.join(root, 'rgb')],
      ['predict', '--run', path.join(root, 'run'), '--run', path.join(root, 'rgb'), path.join(root, 'face.png')],
    ]) {
      const r = await fer(...command);
      expect(r.code, r.text).toBe(1);
      expect(r.text).toContain(path.join(root, 'rgb'));
      expect(r.text).toMatch(/32, 32, 3/);
      expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    }
  });
});
