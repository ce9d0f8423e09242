import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel, type ModelName } from '../../models/index.js';
import { batchGradients } from '../../training/gradients.js';
import { withFlags } from '../../flags.js';
import { registerWasmTrainingKernels } from '../registry.js';
import { maxRelDiff, randomArray } from '../test_util.js';

/** Loss and gradients of a model on one batch, on a backend, from the same initial weights (no dropout: the same on both). */
async function modelGradients(
  backend: string,
  x: Float32Array,
  labels: Int32Array,
  name: ModelName = 'seed',
  width = 1,
  relaxedSimd = false,
): Promise<{ loss: number; grads: Float32Array[]; names: string[] }> {
  if (backend === 'wasm') registerWasmTrainingKernels();
  await tf.setBackend(backend);
  // native.c's plain SIMD build: a whole step is sensitive to rounding (below), and these tests were set on it
  return withFlags({ relaxedSimd }, () => {
    const model = buildModel(name, { seed: 5, width, dropout: 0 });
    const { loss, grads } = batchGradients(model, x, labels);
    const out = { loss, grads: grads.map((g) => g.dataSync() as Float32Array), names: model.trainableWeights.map((w) => w.name) };
    tf.dispose(grads);
    model.dispose();
    return out;
  });
}

/** ||a - b|| / ||b||. */
function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
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

// A whole training step of a small batch is sensitive to rounding: max-pool windows with near-equal values and
// ReLU inputs near 0 route the gradient one way or the other. With native.c's plain build, the vgg step's input
// times (1 + 1e-6 sin i) moved the conv layers' kernel gradients by 2.6% (relative L2; 1e-7: 1e-5). The relaxed
// build (fused multiply-adds) rounds differently, so it is held to what that sensitivity allows, after the
// kernel tests (native_conv.test.ts) hold each of its convolutions to the cpu backend.
describe("native.c's relaxed-SIMD build in a whole vgg training step", () => {
  it("gives the loss of the plain build and gradients within the step's sensitivity to rounding", async () => {
    const n = 2;
    const x = randomArray(n * 48 * 48, 22).map((v) => (v + 1) / 2);
    const labels = Int32Array.from([2, 5]);
    const plain = await modelGradients('wasm', x, labels, 'vgg', 0.5, false);
    const relaxed = await modelGradients('wasm', x, labels, 'vgg', 0.5, true);
    expect(relaxed.loss).toBeCloseTo(plain.loss, 5);
    for (let i = 0; i < plain.grads.length; i++) expect(relL2(relaxed.grads[i], plain.grads[i]), plain.names[i]).toBeLessThan(5e-2);
  });
});
