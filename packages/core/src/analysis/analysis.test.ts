import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { syntheticFaces } from '../data/synthetic.js';
import { toInput } from '../evaluation/predict.js';
import { maskConcentration, featureMask } from './mask-score.js';
import { integratedGradientsSigned, vanillaGradient, gradCam, smoothGrad, SALIENCY_METHODS, ATTRIBUTION_METHODS } from './attribution/index.js';
import { maximizeFilters, filterResponses, randomFilters } from './filters.js';
import { tinyCnn } from '../models/tiny.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('maskConcentration', () => {
  const faces = syntheticFaces({ count: 4, seed: 3 });
  const mask = featureMask(faces.masks!);
  it('is 1 for a uniform map and 1/area for a map inside the mask', () => {
    expect(maskConcentration(new Float32Array(4 * 2304).fill(1), mask)).toBeCloseTo(1, 6);
    const inside = Float32Array.from(mask);
    let area = 0;
    for (let i = 0; i < 2304; i++) area += mask[i];
    const score = maskConcentration(inside.subarray(0, 2304), mask.subarray(0, 2304));
    expect(score).toBeCloseTo(2304 / area, 6);
    expect(score).toBeGreaterThan(2);
  });
});

describe('attribution methods', () => {
  const faces = syntheticFaces({ count: 3, seed: 5 });
  const x = toInput(faces.pixels, 0, 3);
  const model = tinyCnn();
  const classes = Array.from(faces.labels);

  it('vanilla gradient matches a finite difference', async () => {
    const map = await vanillaGradient(model, x.slice(0, 2304), classes[0]);
    let k = 0;
    for (let i = 1; i < 2304; i++) if (map[i] > map[k]) k = i;
    const logit = (v: Float32Array) => tf.tidy(() => (model.predict(tf.tensor4d(v, [1, 48, 48, 1])) as tf.Tensor2D).arraySync()[0][classes[0]]);
    const h = 1e-2;
    const up = x.slice(0, 2304);
    const down = x.slice(0, 2304);
    up[k] += h;
    down[k] -= h;
    expect(Math.abs((logit(up) - logit(down)) / (2 * h))).toBeCloseTo(map[k], 2);
  });

  it('Integrated Gradients add up to logit(face) - logit(baseline) (completeness)', async () => {
    const face = x.slice(0, 2304);
    const ig = await integratedGradientsSigned(model, face, classes[0], { baseline: 'black', steps: 64 });
    const sum = ig.reduce((a, b) => a + b, 0);
    const logits = tf.tidy(() => (model.predict(tf.tensor4d(face, [1, 48, 48, 1])) as tf.Tensor2D).arraySync()[0][classes[0]]);
    const base = tf.tidy(() => (model.predict(tf.zeros([1, 48, 48, 1])) as tf.Tensor2D).arraySync()[0][classes[0]]);
    expect(sum).toBeCloseTo(logits - base, 2);
  });

  it('every method gives one non-negative 48x48 map per face', async () => {
    for (const m of SALIENCY_METHODS) {
      const maps = await ATTRIBUTION_METHODS[m](model, x, classes, { samples: 3, steps: 4 } as object);
      expect(maps.length, m).toBe(3 * 2304);
      expect(
        maps.every((v) => v >= 0 && Number.isFinite(v)),
        m,
      ).toBe(true);
      expect(
        maps.some((v) => v > 0),
        m,
      ).toBe(true);
    }
  });

  it('SmoothGrad with no noise is the vanilla gradient', async () => {
    const a = await smoothGrad(model, x, classes, { samples: 2, noise: 0 });
    const b = await vanillaGradient(model, x, classes);
    for (let i = 0; i < a.length; i += 97) expect(a[i]).toBeCloseTo(b[i], 5);
  });

  it('Grad-CAM is the ReLU of the gradient-weighted feature maps, upsampled', async () => {
    const cam = await gradCam(model, x.slice(0, 2304), classes[0]);
    // by hand at conv2's 24x24 output: weights = mean gradient per channel
    const manual = tf.tidy(() => {
      const input = tf.tensor4d(x.slice(0, 2304), [1, 48, 48, 1]);
      const head = (t: tf.Tensor) => model.layers.slice(0, 5).reduce((h, l) => l.apply(h) as tf.Tensor, t);
      const tail = (t: tf.Tensor) => model.layers.slice(5).reduce((h, l) => l.apply(h) as tf.Tensor, t);
      const a = head(input);
      const g = tf.grad((f: tf.Tensor) => (tail(f) as tf.Tensor2D).slice([0, classes[0]], [1, 1]).sum())(a);
      const m = tf.relu(tf.sum(tf.mul(a, tf.mean(g, [1, 2], true)), 3, true)) as tf.Tensor4D;
      return tf.image.resizeBilinear(m, [48, 48], true).dataSync();
    });
    for (let i = 0; i < 2304; i += 31) expect(cam[i]).toBeCloseTo(manual[i], 5);
  });
});

describe('filters', () => {
  const model = tinyCnn({ seed: 4 });
  it('activation maximisation raises the filter response above a grey image', async () => {
    const r = await maximizeFilters(model, 2, [0, 3], { steps: 30 });
    expect(r.layer).toBe('conv2');
    expect(r.images.length).toBe(2 * 2304);
    const grey = await maximizeFilters(model, 2, [0, 3], { steps: 0 });
    for (let i = 0; i < 2; i++) expect(r.activations[i]).toBeGreaterThan(grey.activations[i]);
    expect(r.images.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
  it("gives the chosen filters' responses to a face and picks distinct random filters", async () => {
    const faces = syntheticFaces({ count: 1, seed: 2 });
    const r = await filterResponses(model, 1, toInput(faces.pixels, 0, 1), [1, 2]);
    expect(r.size).toBe(48);
    expect(r.maps.length).toBe(2 * 48 * 48);
    expect(r.maps.every((v) => v >= 0)).toBe(true);
    const picks = randomFilters(128, 10, 0);
    expect(new Set(picks).size).toBe(10);
    expect(() => maximizeFilters(model, 5, [0])).rejects.toThrow(/conv layer 5/);
  });
});
