import { describe, expect, it } from 'vitest';
import { syntheticFaces } from './synthetic.js';

describe('syntheticFaces', () => {
  it('is deterministic, and face i depends only on (seed, i)', () => {
    const a = syntheticFaces({ count: 14, seed: 3 });
    const b = syntheticFaces({ count: 14, seed: 3 });
    const longer = syntheticFaces({ count: 21, seed: 3 });
    const other = syntheticFaces({ count: 14, seed: 4 });
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(longer.pixels.subarray(0, 14 * 2304)).equals(Buffer.from(a.pixels))).toBe(true);
    expect(Buffer.from(other.pixels).equals(Buffer.from(a.pixels))).toBe(false);
    expect(Array.from(a.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('returns eye, brow and mouth masks that are small, separate regions where the features are drawn', () => {
    const d = syntheticFaces({ count: 70, seed: 1 });
    const { eyes, brows, mouth } = d.masks!;
    for (let n = 0; n < d.size; n++) {
      const o = n * 2304;
      let e = 0,
        b = 0,
        m = 0,
        inCount = 0,
        outCount = 0;
      for (let i = 0; i < 2304; i++) {
        e += eyes[o + i];
        b += brows[o + i];
        m += mouth[o + i];
        const any = eyes[o + i] | brows[o + i] | mouth[o + i];
        if (any) inCount++;
        else outCount++;
      }
      expect(e).toBeGreaterThan(20);
      expect(b).toBeGreaterThan(20);
      expect(m).toBeGreaterThan(15);
      expect(inCount / 2304).toBeLessThan(0.35);
      expect(outCount).toBeGreaterThan(inCount);
    }
  });

  it('varies pose, light and noise: same-class faces differ, mean brightness spreads', () => {
    const d = syntheticFaces({ count: 70, seed: 2 });
    const means = Array.from({ length: d.size }, (_, n) => d.pixels.subarray(n * 2304, (n + 1) * 2304).reduce((s, v) => s + v, 0) / 2304);
    expect(Math.max(...means) - Math.min(...means)).toBeGreaterThan(30);
    let diff = 0;
    for (let i = 0; i < 2304; i++) diff += Math.abs(d.pixels[i] - d.pixels[7 * 2304 + i]);
    expect(diff / 2304).toBeGreaterThan(10);
  });
});
