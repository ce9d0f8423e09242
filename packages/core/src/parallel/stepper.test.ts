import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { buildModel } from '../models.js';
import { randomArray } from '../kernels/test_util.js';
import { createDataParallelStepper, createLocalStepper, shareSizes, type BatchStepper } from './stepper.js';

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

  // The simple model has no BatchNorm, so two half-batch gradients averaged are the full-batch gradient
  // and the weights after a step must match a single-threaded step up to float rounding.
  it('gives the weights of a single-threaded full-batch step (2 workers, simple model)', async () => {
    const n = 6;
    const x = randomArray(n * 48 * 48, 7).map((v) => (v + 1) / 2);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 7);
    const ref = buildModel('simple', { seed: 3 });
    const par = buildModel('simple', { seed: 3 });
    const local = createLocalStepper({ model: ref, optimizer: tf.train.adam(1e-3) });
    parallel = await createDataParallelStepper({ model: par, modelName: 'simple', optimizer: tf.train.adam(1e-3), workers: 2 });
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
    // Adam's slots are made on the first step; after that, no tensor may accumulate.
    const after = tf.memory().numTensors;
    await parallel.step(x.slice(), labels.slice());
    expect(tf.memory().numTensors).toBe(after);
    expect(after).toBeGreaterThanOrEqual(before);
  });
});
