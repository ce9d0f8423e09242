import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClaimsError, verifyClaims, type Claim } from './claims.js';
import { hw3Claims } from './verify.js';

const quick = { sizes: { batchnorm: [2, 3], softmax: [2, 3] }, pointsPerCase: 8 };

function judge(claims: Claim[]) {
  return verifyClaims({ claims }, quick);
}

describe('verifyClaims', () => {
  it('catches a deliberately wrong formula with a counterexample that really is one', () => {
    // Textbook dℓ/dσ² with (x − μ) replaced by (x − μ)² : a plausible slip.
    const [r] = judge([
      {
        id: 'wrong',
        section: 'batchnorm',
        latex: 'x',
        quantity: 'grad(sigma2)',
        mathjs: 'sum(k, dy[k] * gamma * (x[k] - mu)^2) * (-1/2) * (sigma2 + eps)^(-3/2)',
      },
    ]);
    expect(r.verdict).toBe('fails');
    const ce = r.counterexample!;
    expect(ce.size).toEqual({ m: 2 });
    // Recompute both sides by hand from the counterexample's numbers.
    const v = ce.values;
    const xs = [v.x_1, v.x_2];
    const dys = [v.dy_1, v.dy_2];
    const mu = (xs[0] + xs[1]) / 2;
    const s2 = ((xs[0] - mu) ** 2 + (xs[1] - mu) ** 2) / 2;
    const f = (p: number) => -0.5 * v.gamma * (s2 + v.eps) ** -1.5 * dys.reduce((a, d, k) => a + d * (xs[k] - mu) ** p, 0);
    expect(ce.actual).toBeCloseTo(f(1), 9);
    expect(ce.claimed).toBeCloseTo(f(2), 9);
    expect(Math.abs(ce.actual - ce.claimed)).toBeGreaterThan(1e-3);
  });

  it('passes a right formula, written differently from the textbook', () => {
    const [r] = judge([
      {
        id: 'right',
        section: 'batchnorm',
        latex: 'x',
        quantity: 'grad(x[i])',
        // dℓ/dx_i = γ/(m√(σ²+ε)) (m dy_i − Σ dy − x̂_i Σ dy x̂), expanded into the three paths.
        mathjs:
          'dy[i] * gamma / sqrt(sigma2 + eps) - sum(k, dy[k] * gamma) / (m * sqrt(sigma2 + eps)) - (x[i] - mu) * sum(k, dy[k] * gamma * (x[k] - mu)) / (m * (sigma2 + eps)^(3/2))',
      },
    ]);
    expect(r.verdict).toBe('holds');
    expect(r.failures).toBe(0);
    expect(r.points).toBe((2 + 3) * 8);
  });

  it('finds the condition under which a formula holds, and says when it is exact', () => {
    const [r] = judge([{ id: 'no-gamma', section: 'batchnorm', latex: 'x', quantity: 'grad(xhat[i])', mathjs: 'dy[i]' }]);
    expect(r.verdict).toBe('holds-if');
    expect(r.conditions).toEqual([{ text: 'γ = 1', expr: 'gamma == 1', exact: true }]);
    expect(r.counterexample!.values.gamma).not.toBe(1);
  });

  it('judges the report: the known slips fail, the sound lines hold', () => {
    const pick = ['bn-dvar-1', 'bn-dvar-3', 'bn-dx-3', 'bn-dx-4', 'sm-dz-7', 'sm-dz-8', 'conv-width'];
    const results = verifyClaims({ claims: hw3Claims.claims.filter((c) => pick.includes(c.id)) }, quick);
    const verdict = Object.fromEntries(results.map((r) => [r.id, r.verdict]));
    expect(verdict).toEqual({
      'conv-width': 'holds-if',
      'bn-dvar-1': 'holds',
      'bn-dvar-3': 'fails',
      'bn-dx-3': 'holds',
      'bn-dx-4': 'holds-if',
      'sm-dz-7': 'holds-if',
      'sm-dz-8': 'holds',
    });
    for (const r of results) if (r.corrected) expect(r.corrected.holds).toBe(true);
    const conv = results.find((r) => r.id === 'conv-width')!;
    expect(conv.conditions!.find((c) => c.exact)!.expr).toBe('mod(W + 2 * pW - kW, sW) == 0');
    // Only the width's own variables describe a width counterexample.
    expect(Object.keys(conv.counterexample!.values).sort()).toEqual(['W', 'kW', 'pW', 'sW']);
  });

  it('reports a bad claims file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gc-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"claims": [{"id": "a", "section": "nope", "latex": "x", "quantity": "l", "mathjs": "1"}]}');
    expect(() => verifyClaims(bad)).toThrow(/section "nope" is unknown; use one of conv, batchnorm, softmax/);
    writeFileSync(bad, '{"claims": [');
    expect(() => verifyClaims(bad)).toThrow(/not valid JSON/);
    expect(() => verifyClaims(join(dir, 'missing.json'))).toThrow(/cannot read claims file .*ENOENT/);
    expect(() => judge([{ id: 'u', section: 'softmax', latex: 'x', quantity: 'grad(z[t])', mathjs: 'q[t]' }])).toThrow(ClaimsError);
    expect(() => judge([{ id: 'u', section: 'softmax', latex: 'x', quantity: 'grad(z[t])', mathjs: 'z[t + 20]' }])).toThrow(/outside 1\.\.2/);
  });
});
