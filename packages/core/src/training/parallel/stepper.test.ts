import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend/select.js';
import { buildModel } from '../../models/index.js';
import { randomArray } from '../../backend/test_util.js';
import { createLocalStepper, type BatchStepper } from '../stepper.js';
import { createDataParallelStepper, shareSizes, weightedSum } from './stepper.js';

/** n faces whose second half is a copy of the first (so each half has the whole batch's statistics), and labels. */
function twoEqualHalves(n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const half = randomArray((n / 2) * 48 * 48, seed).map((v) => (v + 1) / 2);
  const x = new Float32Array(n * 48 * 48);
  x.set(half);
  x.set(half, half.length);
  return { x, labels: Int32Array.from({ length: n }, (_, i) => (i % (n / 2)) % 7) };
}

describe('data-parallel stepper', () => {
  let parallel: BatchStepper | undefined;
  beforeAll(async () => {
    tf.env().set('PROD', true);
    await selectBackend('wasm');
  });
  afterAll(async () => parallel?.dispose());

  it('splits a batch into near-equal shares', () => {
    expect(shareSizes(7, 2)).toEqual([4, 3]);
    expect(shareSizes(1, 2)).toEqual([1, 0]);
  });

  it("weights the workers' arrays by their shares, as a float32 running total", () => {
    const a = Float32Array.from([1, -2, 0.1, 3e-8]);
    const b = Float32Array.from([3, 4, 0.2, -1e-8]);
    const c = Float32Array.from([0, 1, 0.3, 5]);
    const out = weightedSum([a, b, c], [4 / 7, 2 / 7, 1 / 7]);
    for (let j = 0; j < a.length; j++) {
      // the same sums one float32 rounding at a time
      let ref = Math.fround((4 / 7) * a[j]);
      ref = Math.fround(ref + (2 / 7) * b[j]);
      ref = Math.fround(ref + (1 / 7) * c[j]);
      expect(out[j]).toBe(ref);
    }
    expect(Array.from(weightedSum([a], [1]))).toEqual(Array.from(a));
    expect(() => weightedSum([a, Float32Array.from([1])], [0.5, 0.5])).toThrow(/part 1 has 1 values/);
  });

  // Each worker normalises with its own half-batch BatchNorm statistics (as PyTorch's DataParallel does).
  // With the batch's second half a copy of its first, each half has the full batch's mean and variance, so
  // two half-batch gradients averaged are the full-batch gradient and the weights after a step must match
  // a single-threaded step up to float rounding.
  it('gives the weights of a single-threaded full-batch step (2 workers, simple model)', async () => {
    const { x, labels } = twoEqualHalves(6, 7);
    const ref = buildModel('simple', { seed: 3 });
    const par = buildModel('simple', { seed: 3 });
    // Plain SGD: Adam would turn float rounding in near-zero gradients into whole learning-rate steps. And a
    // small rate: at 0.05 the six faces' loss went 2.2, 0.94, 4.0, and rounding-level differences between the
    // half and whole batches moved the weights after the second step by up to 1e-3 (model seed 7 with native.c's
    // plain build, seed 3 with its relaxed build); at 0.01, 1.2e-7 to 3.9e-5 for seeds 3-8 with either build.
    const sgd = () => tf.train.sgd(0.01);
    const local = createLocalStepper({ model: ref, optimizer: sgd() });
    parallel = await createDataParallelStepper({ model: par, modelName: 'simple', optimizer: sgd(), workers: 2 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const a = await local.step(x.slice(), labels.slice());
      const b = await parallel.step(x.slice(), labels.slice());
      expect(b.loss).toBeCloseTo(a.loss, 4);
      expect(b.correct).toBe(a.correct);
    }
    await parallel.sync();
    let maxDiff = 0;
    ref.weights.forEach((w, i) => {
      const a = w.read().dataSync();
      const b = par.weights[i].read().dataSync();
      for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
    });
    expect(maxDiff).toBeLessThan(1e-4);
    // After the first step, no tensor may accumulate.
    const after = tf.memory().numTensors;
    await parallel.step(x.slice(), labels.slice());
    expect(tf.memory().numTensors).toBe(after);
    expect(after).toBeGreaterThanOrEqual(before);
  });

  it("passes each worker its share of the teacher's probabilities (distillation)", async () => {
    const n = 6;
    const { x, labels } = twoEqualHalves(n, 9);
    // Each face its own row (the halves' faces alike, their rows not), so a worker given the other's share, or
    // none, computes another loss; the faces' logits are the same either way, as both halves have the same statistics.
    const soft = new Float32Array(n * 7);
    for (let i = 0; i < n; i++) for (let c = 0; c < 7; c++) soft[i * 7 + c] = c === (i * 3 + 1) % 7 ? 0.7 : 0.05;
    const loss = { teacherWeight: 0.6, labelSmoothing: 0.1 };
    const ref = buildModel('simple', { seed: 4 });
    const par = buildModel('simple', { seed: 4 });
    const local = createLocalStepper({ model: ref, optimizer: tf.train.sgd(0.01), loss });
    const stepper = await createDataParallelStepper({ model: par, modelName: 'simple', optimizer: tf.train.sgd(0.01), workers: 2, loss });
    try {
      const a = await local.step(x.slice(), labels.slice(), soft.slice());
      const b = await stepper.step(x.slice(), labels.slice(), soft.slice());
      expect(b.loss).toBeCloseTo(a.loss, 4);
      const plain = await stepper.step(x.slice(), labels.slice()); // no teacher: another loss
      expect(Math.abs(plain.loss - b.loss)).toBeGreaterThan(0.05);
    } finally {
      await stepper.dispose();
      ref.dispose();
    }
  });

  it('leaks no tensors in the workers or on the main thread (seed model, BatchNorm moving stats)', async () => {
    const n = 4;
    const x = randomArray(n * 48 * 48, 8).map((v) => (v + 1) / 2);
    const labels = Int32Array.from([1, 2, 3, 4]);
    const model = buildModel('seed', { seed: 1 });
    const stepper = await createDataParallelStepper({ model, modelName: 'seed', optimizer: tf.train.adam(1e-3), workers: 2 });
    try {
      const counts: number[] = [];
      const inWorkers: number[][] = [];
      for (let i = 0; i < 4; i++) {
        const r = await stepper.step(x.slice(), labels.slice());
        expect(Number.isFinite(r.loss)).toBe(true);
        counts.push(tf.memory().numTensors);
        inWorkers.push(stepper.workerTensors());
      }
      expect(counts[3]).toBe(counts[1]);
      expect(inWorkers[3]).toEqual(inWorkers[1]);
      const p1 = await stepper.predict(x.slice());
      const p2 = await stepper.predict(x.slice()); // weights not resent: same answer
      expect(Array.from(p2)).toEqual(Array.from(p1));
      const local = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, 48, 48, 1])) as tf.Tensor).dataSync());
      for (let i = 0; i < local.length; i++) expect(p1[i]).toBeCloseTo(local[i], 4);
      expect(tf.memory().numTensors).toBe(counts[3]);
      // The moving statistics came back from the workers: no longer the initial zeros and ones.
      const movingMean = model.weights
        .find((w) => w.originalName === 'bn3/moving_mean')!
        .read()
        .dataSync();
      expect(movingMean.some((v) => v !== 0)).toBe(true);
    } finally {
      await stepper.dispose();
    }
  });

  it('leaks no tensors in the single-thread stepper', async () => {
    const n = 4;
    const x = randomArray(n * 48 * 48, 9).map((v) => (v + 1) / 2);
    const labels = Int32Array.from([0, 1, 2, 3]);
    const stepper = createLocalStepper({ model: buildModel('seed', { seed: 2 }), optimizer: tf.train.adam(1e-3) });
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await stepper.step(x, labels);
      counts.push(tf.memory().numTensors);
    }
    expect(counts[2]).toBe(counts[1]);
  });
});
