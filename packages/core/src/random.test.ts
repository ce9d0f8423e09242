import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32, shuffledRange } from './random.js';

describe('random', () => {
  it('mulberry32 repeats for a seed, differs between seeds, and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('gaussian has mean 0 and variance 1', () => {
    const g = gaussian(mulberry32(7));
    const xs = Array.from({ length: 20000 }, g);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('shuffledRange is a permutation, the same for the same seed', () => {
    const p = shuffledRange(500, mulberry32(3));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(shuffledRange(500, mulberry32(3))).toEqual(p);
    expect(p).not.toEqual(Uint32Array.from({ length: 500 }, (_, i) => i));
  });
});
