import { beforeAll, describe, expect, it } from 'vitest';
import { centralDifference5, checkClosedForm, relErrorVector, runReferenceChecks } from './checks.js';
import { batchnorm, softmax } from './sections/index.js';
import { tf, useCpuBackend } from './tf.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await useCpuBackend();
});

const small = { sizes: { batchnorm: [2, 4], softmax: [3] }, symbolicPoints: 20, numericPoints: 4, autodiffPoints: 2 };

describe('reference checks', () => {
  it('pass for the textbook formulas, with every kind represented', async () => {
    const checks = await runReferenceChecks(small);
    const failed = checks.filter((c) => !c.pass).map((c) => `${c.name} ${c.kind} ${c.maxRelError}`);
    expect(failed).toEqual([]);
    const kinds = new Set(checks.map((c) => c.kind));
    for (const k of ['symbolic', 'numeric', 'autodiff', 'autodiff-layer', 'count', 'tfjs-shape']) expect(kinds).toContain(k);
    // Layer checks exist exactly where the real layer exposes the gradient.
    const layer = checks.filter((c) => c.kind === 'autodiff-layer').map((c) => c.name.split(':')[0]);
    expect(layer).toEqual(['∂ℓ/∂x_i', '∂ℓ/∂γ', '∂ℓ/∂β', '∂L/∂z_t']);
  });

  it('fail, all three ways, for a closed form with a slip', () => {
    // The report's own dℓ/dσ² slip: x̂ where x belongs.
    const wrong = { quantity: 'grad(sigma2)', label: 'slip', closed: 'sum(k, dy[k] * gamma * (xhat[k] - mu)) * (-1/2) * (sigma2 + eps)^(-3/2)' };
    const results = checkClosedForm(batchnorm, wrong, small);
    expect(results.map((r) => [r.kind, r.pass])).toEqual([
      ['symbolic', false],
      ['numeric', false],
      ['autodiff', false],
    ]);
    for (const r of results) expect(r.maxRelError).toBeGreaterThan(0.01);
  });

  it('fail for a softmax gradient that drops the target term', () => {
    const results = checkClosedForm(softmax, { quantity: 'grad(z[t])', label: 'no target', closed: 'yhat[t]' }, small);
    expect(results.every((r) => !r.pass)).toBe(true);
  });
});

describe('numerical helpers', () => {
  it('five-point differences resolve a gradient 1e-6 the size of the function', () => {
    // f = 1 + 1e-6 sin(v): rounding in f is ~1e-16, the gradient ~1e-6.
    const d = centralDifference5((v) => 1 + 1e-6 * Math.sin(v), 0.4);
    expect(Math.abs(d - 1e-6 * Math.cos(0.4)) / (1e-6 * Math.cos(0.4))).toBeLessThan(1e-7);
    // Steps that leave the domain are skipped, not returned.
    expect(centralDifference5((v) => Math.sqrt(v), 0.01)).toBeCloseTo(0.5 / Math.sqrt(0.01), 6);
  });

  it('relative error of vectors scales by the largest entry or the term size', () => {
    expect(relErrorVector([1, 0.001], [1, 0.002])).toBeCloseTo(0.001, 12);
    expect(relErrorVector([1e-6], [2e-6])).toBeCloseTo(0.5, 12);
    expect(relErrorVector([1e-6], [2e-6], 1)).toBeCloseTo(1e-6, 12);
    expect(relErrorVector([0, 0], [0, 0])).toBe(0);
    expect(relErrorVector([1], [Number.NaN])).toBe(Infinity);
  });
});
