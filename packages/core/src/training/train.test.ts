import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../backend/select.js';
import { syntheticFaces } from '../data/synthetic.js';
import { splitByRows, subset } from '../data/dataset.js';
import { seedCnn } from '../models/index.js';
import { train } from './train.js';
import { createLocalStepper } from './stepper.js';
import { createDataParallelStepper } from './parallel/stepper.js';
import type { LossOptions } from './gradients.js';
import { toInput } from '../evaluation/predict.js';
import { evaluateModel } from '../evaluation/evaluate.js';
import { loadCheckpoint, loadModel } from '../rundir/index.js';
import { FerError } from '../errors.js';

const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

/** A few Adam steps of the thin seed CNN from a fixed init on fixed faces; returns the losses. */
async function fewSteps(backend: 'cpu' | 'wasm', steps: number): Promise<{ losses: number[]; correct: number[]; weights: Float32Array }> {
  await selectBackend(backend);
  const model = seedCnn({ seed: 7, width: 0.125 });
  const opt = tf.train.adam(3e-3);
  const stepper = createLocalStepper({ model, optimizer: opt });
  const d = syntheticFaces({ count: 16, seed: 11 });
  const x = toInput(d.pixels, 0, 16);
  const losses: number[] = [];
  const correct: number[] = [];
  for (let i = 0; i < steps; i++) {
    const r = await stepper.step(x, Int32Array.from(d.labels));
    losses.push(r.loss);
    correct.push(r.correct);
  }
  const weights = model.getLayer('conv1').getWeights()[0].dataSync() as Float32Array;
  model.dispose();
  opt.dispose();
  return { losses, correct, weights };
}

describe('training', () => {
  it('the same short training on wasm and on cpu agrees, and learns on both (loss falls, accuracy above chance)', async () => {
    const steps = 8;
    const cpu = await fewSteps('cpu', steps);
    const wasm = await fewSteps('wasm', steps);
    // float32 rounding differs between backends and Adam amplifies it a little each step
    for (let i = 0; i < steps; i++) expect(Math.abs(wasm.losses[i] - cpu.losses[i])).toBeLessThan((i < 4 ? 5e-3 : 3e-2) * Math.max(1, cpu.losses[i]));
    let maxDiff = 0;
    for (let i = 0; i < cpu.weights.length; i++) maxDiff = Math.max(maxDiff, Math.abs(cpu.weights[i] - wasm.weights[i]));
    expect(maxDiff).toBeLessThan(5e-3);
    for (const r of [cpu, wasm]) {
      expect(r.losses[steps - 1]).toBeLessThan(0.75 * r.losses[0]);
      expect(r.correct[steps - 1]).toBeGreaterThanOrEqual(8); // of 16; chance is about 2
    }
  });
});

describe('a short training run on synthetic faces (wasm)', () => {
  let r: Awaited<ReturnType<typeof train>>;
  let out: string;
  let validation: ReturnType<typeof splitByRows>['validation'];
  beforeAll(async () => {
    await selectBackend('wasm');
    // clean frontal faces (difficulty 0) so that a few dozen steps are enough to show learning
    const d = syntheticFaces({ count: 780, seed: 21, difficulty: 0 });
    const split = splitByRows(d, 640);
    validation = split.validation;
    out = tmp('fer-train-');
    r = await train({ train: split.train, validation, epochs: 3, batchSize: 16, learningRate: 2e-3, lrSchedule: 'cosine', seed: 1, outDir: out });
  });

  it('learns: loss falls, training and validation accuracy far above chance', () => {
    expect(r.history).toHaveLength(3);
    expect(r.history[2].loss).toBeLessThan(r.history[0].loss);
    expect(r.history[2].loss).toBeLessThan(1.2); // chance is ln 7 = 1.95
    expect(r.history[2].acc).toBeGreaterThan(0.5);
    expect(r.bestValAcc).toBeGreaterThan(0.4); // chance is 1/7
  });

  it('writes history (JSON and CSV), the model and both checkpoints', () => {
    for (const f of ['history.json', 'history.csv', 'model/model.json', 'model/weights.bin', 'checkpoints/last/state.json', 'checkpoints/best/optimizer.bin']) {
      expect(existsSync(path.join(out, f)), f).toBe(true);
    }
    const csv = readFileSync(path.join(out, 'history.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,acc,val_loss,val_acc,seconds,rss_mb,tensors');
    expect(csv).toHaveLength(4);
  });

  it('records memory per epoch, and no tensor accumulates on the main thread', () => {
    expect(r.history.every((h) => (h.rss_mb ?? 0) > 50)).toBe(true);
    expect(r.history[2].tensors).toBe(r.history[1].tensors);
  });

  it("exports plain TensorFlow.js (fer's first layer as the Conv2D it computes); checkpoints keep fer's class", () => {
    // checkpoints keep fer's class so that a resumed run trains exactly as the uninterrupted one
    expect(readFileSync(path.join(out, 'model/model.json'), 'utf8')).not.toContain('FerInputConv2D');
    expect(readFileSync(path.join(out, 'checkpoints/last/model.json'), 'utf8')).toContain('FerInputConv2D');
  });

  it('the saved model is the trained one, and scores alike through any source of logits', async () => {
    const loaded = await loadModel(path.join(out, 'model'));
    expect(loaded.layers[0].getClassName()).toBe('Conv2D');
    const again = await evaluateModel(loaded, validation);
    expect(again.accuracy).toBeCloseTo(r.history[2].val_acc, 5);
    // the data-parallel workers validate through a logits function
    const viaLogits = await evaluateModel(
      async (xb) => tf.tidy(() => (loaded.predict(tf.tensor4d(xb, [xb.length / 2304, 48, 48, 1])) as tf.Tensor).dataSync() as Float32Array),
      validation,
      100,
    );
    expect(viaLogits.accuracy).toBe(again.accuracy);
    expect(viaLogits.loss).toBeCloseTo(again.loss, 4);
    expect(viaLogits.confusion).toEqual(again.confusion);
  });
});

describe('resume and failure', () => {
  it('resuming from a checkpoint gives the same run as never stopping (Ctrl-C mid-epoch included)', async () => {
    await selectBackend('wasm');
    const d = syntheticFaces({ count: 100, seed: 8 });
    const { train: tr, validation } = splitByRows(d, 60);
    const common = { train: tr, validation, epochs: 2, batchSize: 10, learningRate: 1e-3, seed: 3, model: 'seed' as const };
    const straight = await train({ ...common, outDir: tmp('fer-straight-') });

    // Stop after 3 batches of the first epoch, as Ctrl-C does, then resume twice: mid-epoch and after epoch 1.
    const out = tmp('fer-resume-');
    const ctrl = new AbortController();
    const first = await train({ ...common, outDir: out, signal: ctrl.signal, callbacks: { onBatch: (p) => p.batch === 3 && ctrl.abort() } });
    expect(first.interrupted).toBe(true);
    expect(first.history).toHaveLength(0);
    const state = JSON.parse(readFileSync(path.join(out, 'checkpoints/last/state.json'), 'utf8'));
    expect(state.batchesDone).toBe(3);
    const resumed = await train({ ...common, outDir: out, resume: true });
    expect(resumed.startEpoch).toBe(0);
    expect(resumed.history).toHaveLength(2);
    for (let e = 0; e < 2; e++) {
      expect(resumed.history[e].loss).toBeCloseTo(straight.history[e].loss, 4);
      expect(resumed.history[e].val_acc).toBeCloseTo(straight.history[e].val_acc, 4);
    }
    const a = straight.model.getWeights().map((w) => w.dataSync());
    const b = resumed.model.getWeights().map((w) => w.dataSync());
    let maxDiff = 0;
    for (const [i, w] of a.entries()) for (const [j, v] of w.entries()) maxDiff = Math.max(maxDiff, Math.abs(v - b[i][j]));
    expect(maxDiff).toBeLessThan(1e-4);

    // asking for more epochs continues from the end
    const more = await train({ ...common, epochs: 3, outDir: out, resume: true });
    expect(more.startEpoch).toBe(2);
    expect(more.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  });

  /** Trains 2 epochs straight, and again killed after epoch 1's checkpoint then resumed; both runs' numbers and weights. */
  async function straightAndResumed(options: Partial<Parameters<typeof train>[0]>, workers: number) {
    await selectBackend('wasm');
    const d = syntheticFaces({ count: 120, seed: 4 });
    const { train: tr, validation } = splitByRows(d, 96);
    const makeStepper =
      workers > 1
        ? (model: tf.LayersModel, optimizer: tf.Optimizer, loss: LossOptions) => createDataParallelStepper({ model, modelName: 'tiny', optimizer, loss, workers })
        : undefined;
    const common = { train: tr, validation, batchSize: 16, learningRate: 0.01, seed: 9, model: 'tiny' as const, makeStepper, ...options };
    const straight = await train({ ...common, epochs: 2, outDir: tmp('fer-straight-') });
    // a process killed in epoch 2 leaves the checkpoint of epoch 1: stop it right after that checkpoint is saved
    const out = tmp('fer-killed-');
    const killed = await train({ ...common, epochs: 2, outDir: out, callbacks: { onEpochEnd: () => Promise.reject(new Error('killed')) } }).catch((e: Error) => e.message);
    expect(killed).toBe('killed');
    const resumed = await train({ ...common, epochs: 2, outDir: out, resume: true });
    const numbers = (r: typeof straight) => r.history.map((h) => [h.loss, h.acc, h.val_loss, h.val_acc]);
    const weights = (r: typeof straight) => r.model.getWeights().map((w) => Array.from(w.dataSync()));
    return { straight: { numbers: numbers(straight), weights: weights(straight) }, resumed: { numbers: numbers(resumed), weights: weights(resumed) } };
  }

  it('resumed after an epoch (as after kill -9), Adam on the data-parallel workers: the same numbers and weights to the bit', async () => {
    const { straight, resumed } = await straightAndResumed({ lrSchedule: 'cosine' }, 2);
    expect(resumed.numbers).toEqual(straight.numbers);
    expect(resumed.weights).toEqual(straight.weights);
  });

  it('resumed after an epoch, SGD + Nesterov, weight decay, label smoothing, warm-up + cosine, augmentation, one thread: bit-identical', async () => {
    const { straight, resumed } = await straightAndResumed(
      {
        optimizer: { name: 'sgd', momentum: 0.9, nesterov: true },
        loss: { weightDecay: 5e-4, labelSmoothing: 0.1 },
        lrSchedule: 'warmup-cosine',
        augment: { crop: 4, flip: true, rotate: 10, scale: 0.1, erase: 0.5, brightness: 0.2, contrast: 0.2 },
      },
      1,
    );
    expect(resumed.numbers).toEqual(straight.numbers);
    expect(resumed.weights).toEqual(straight.weights);
  });

  it('the same with SGD on the data-parallel workers', async () => {
    const { straight, resumed } = await straightAndResumed({ optimizer: { name: 'sgd' }, loss: { weightDecay: 5e-4, labelSmoothing: 0.1 }, augment: { crop: 4, flip: true } }, 2);
    expect(resumed.numbers).toEqual(straight.numbers);
    expect(resumed.weights).toEqual(straight.weights);
  });

  it("checkpoints count every optimizer step (Adam's bias corrections resume at the right step), fused or not", async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await selectBackend(backend);
      const d = syntheticFaces({ count: 50, seed: 4 });
      const { train: tr, validation } = splitByRows(d, 40);
      const out = tmp('fer-steps-');
      await train({ train: tr, validation, epochs: 2, batchSize: 10, learningRate: 1e-3, seed: 1, model: 'tiny', outDir: out });
      const opt = tf.train.adam(1e-3);
      await loadCheckpoint(path.join(out, 'checkpoints', 'last'), opt);
      expect(opt.iterations, backend).toBe(8); // 2 epochs of 4 batches
      opt.dispose();
    }
  });

  it('resuming with another optimizer than the checkpoint holds: a clear error', async () => {
    await selectBackend('wasm');
    const d = syntheticFaces({ count: 40, seed: 4 });
    const { train: tr, validation } = splitByRows(d, 30);
    const out = tmp('fer-opt-');
    await train({ train: tr, validation, epochs: 1, batchSize: 10, learningRate: 1e-3, seed: 1, model: 'tiny', outDir: out });
    const err = await train({
      train: tr,
      validation,
      epochs: 2,
      batchSize: 10,
      learningRate: 1e-3,
      seed: 1,
      model: 'tiny',
      outDir: out,
      resume: true,
      optimizer: { name: 'sgd' },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FerError);
    expect(err.message).toMatch(/holds the state of a Adam optimizer, but this run trains with Momentum/);
  });

  it('stops on a NaN loss with a clear message, leaving the last checkpoint intact', async () => {
    await selectBackend('wasm');
    const d = syntheticFaces({ count: 60, seed: 8 });
    const { train: tr, validation } = splitByRows(d, 40);
    const out = tmp('fer-nan-');
    await train({ train: tr, validation, epochs: 1, batchSize: 20, learningRate: 1e-3, seed: 1, outDir: out });
    const before = readFileSync(path.join(out, 'checkpoints/last/weights.bin'));
    const bad = subset(tr, [0, 1, 2, 3]);
    // a stepper whose loss turns NaN stands in for a diverging run
    const err = await train({
      train: bad,
      validation,
      epochs: 3,
      batchSize: 2,
      learningRate: 1e-3,
      seed: 1,
      outDir: out,
      resume: true,
      makeStepper: async () => ({ step: async () => ({ loss: NaN, correct: 0 }), sync: async () => {}, dispose: async () => {} }),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FerError);
    expect(err.message).toMatch(/the training loss became NaN at epoch 2, batch 1/);
    expect(err.hint).toMatch(/lower --lr/);
    expect(readFileSync(path.join(out, 'checkpoints/last/weights.bin')).equals(before)).toBe(true);
  });
});
