import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel, type ModelName } from '../../models/index.js';
import { batchGradients } from '../../training/gradients.js';
import { registerWasmTrainingKernels } from '../registry.js';
import { maxRelDiff, randomArray } from '../test_util.js';

/** Loss and gradients of a model on one batch, on a backend, from the same initial weights (no dropout: the same on both). */
async function modelGradients(
  backend: string,
  x: Float32Array,
  labels: Int32Array,
  name: ModelName = 'seed',
  width = 1,
): Promise<{ loss: number; grads: Float32Array[]; names: string[] }> {
  if (backend === 'wasm') registerWasmTrainingKernels();
  await tf.setBackend(backend);
  const model = buildModel(name, { seed: 5, width, dropout: 0 });
  const { loss, grads } = batchGradients(model, x, labels);
  const out = { loss, grads: grads.map((g) => g.dataSync() as Float32Array), names: model.trainableWeights.map((w) => w.name) };
  tf.dispose(grads);
  model.dispose();
  return out;
}

describe('a whole seed-CNN training step', () => {
  it('has the same loss and gradients on wasm with our kernels as on the cpu backend', async () => {
    const n = 3;
    const x = randomArray(n * 48 * 48, 21).map((v) => (v + 1) / 2);
    const labels = Int32Array.from([0, 3, 6]);
    const ref = await modelGradients('cpu', x, labels);
    const got = await modelGradients('wasm', x, labels);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    const diffs: Record<string, number> = {};
    for (let i = 0; i < ref.grads.length; i++) {
      // Relative to the gradient's own scale: sums of thousands of products differ in the last bits.
      let scale = 0;
      for (const v of ref.grads[i]) scale = Math.max(scale, Math.abs(v));
      const scaled = (a: Float32Array) => a.map((v) => v / (scale || 1));
      diffs[ref.names[i]] = maxRelDiff(scaled(got.grads[i]), scaled(ref.grads[i]));
    }
    // What remains is the backends' forward rounding flipping a few near-tied max-pool windows: the
    // bias gradients (sums, blind to where in a window the gradient lands) agree to 1e-4 all through.
    for (const [name, d] of Object.entries(diffs)) expect(d, name).toBeLessThan(5e-3);
  });
});

describe('a whole vgg training step', () => {
  it('has the same loss and gradients on wasm with our kernels as on the cpu backend', async () => {
    const n = 2;
    const x = randomArray(n * 48 * 48, 22).map((v) => (v + 1) / 2);
    const labels = Int32Array.from([2, 5]);
    // width 0.5: 16..128 channels, every conv still on fer's native paths (one-channel, Winograd)
    const ref = await modelGradients('cpu', x, labels, 'vgg', 0.5);
    const got = await modelGradients('wasm', x, labels, 'vgg', 0.5);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    for (let i = 0; i < ref.grads.length; i++) {
      let scale = 0;
      for (const v of ref.grads[i]) scale = Math.max(scale, Math.abs(v));
      const scaled = (a: Float32Array) => a.map((v) => v / (scale || 1));
      expect(maxRelDiff(scaled(got.grads[i]), scaled(ref.grads[i])), ref.names[i]).toBeLessThan(5e-3);
    }
  });
});
