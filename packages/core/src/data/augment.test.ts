import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { isFerError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { type AugmentOptions, augmentBatch, describeAugmentation, isAugmenting, validateAugmentOptions } from './augment.js';

const S = IMAGE_SIZE;
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A face of seeded noise in [lo, hi]: every shift and mirror of it is distinguishable. */
function noiseFace(seed: number, lo = 0, hi = 255): Uint8Array {
  const u = mulberry32(seed);
  return Uint8Array.from({ length: PIXELS_PER_IMAGE }, () => lo + Math.floor(u() * (hi - lo + 1)));
}

/** A face from f(x, y), rounded. */
function faceOf(f: (x: number, y: number) => number): Uint8Array {
  const face = new Uint8Array(PIXELS_PER_IMAGE);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) face[y * S + x] = Math.round(f(x, y));
  return face;
}

/** `count` copies of one face, back to back. */
function tile(face: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count * PIXELS_PER_IMAGE);
  for (let i = 0; i < count; i++) out.set(face, i * PIXELS_PER_IMAGE);
  return out;
}

const faceAt = (batch: Uint8Array, i: number): Uint8Array => batch.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE);
const clamp = (v: number): number => Math.min(S - 1, Math.max(0, v));
const mean = (face: Uint8Array): number => face.reduce((s, v) => s + v, 0) / face.length;

function mirrored(face: Uint8Array): Uint8Array {
  const out = new Uint8Array(PIXELS_PER_IMAGE);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = face[y * S + (S - 1 - x)];
  return out;
}

/** The face padded by edge replication and cropped at offset (dx, dy): out(x, y) = face(clamp(x + dx), clamp(y + dy)). */
function shifted(face: Uint8Array, dx: number, dy: number): Uint8Array {
  const out = new Uint8Array(PIXELS_PER_IMAGE);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + x] = face[clamp(y + dy) * S + clamp(x + dx)];
  return out;
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

describe('augmentBatch', () => {
  it('leaves the bytes untouched when every option is off or absent', () => {
    const original = tile(noiseFace(1), 8);
    for (const options of [{}, { crop: 0, flip: false, rotate: 0, scale: 0, erase: 0, brightness: 0, contrast: 0 }] as AugmentOptions[]) {
      const batch = original.slice();
      augmentBatch(batch, range(8), 3, 42, options);
      expect(equal(batch, original)).toBe(true);
      expect(isAugmenting(options)).toBe(false);
    }
    expect(isAugmenting(undefined)).toBe(false);
    expect(isAugmenting({ flip: true })).toBe(true);
    expect(isAugmenting({ contrast: 0.1 })).toBe(true);
  });

  it('flip alone leaves each face unchanged or exactly mirrored, and both happen', () => {
    // An asymmetric pattern: a ramp across x plus a bar on the left.
    const face = faceOf((x, y) => (x < 10 && y > 20 ? 250 : 3 * x + (y % 7)));
    const n = 64;
    const batch = tile(face, n);
    augmentBatch(batch, range(n), 0, 7, { flip: true });
    const mirror = mirrored(face);
    let same = 0;
    let flipped = 0;
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      if (equal(out, face)) same++;
      else if (equal(out, mirror)) flipped++;
      else throw new Error(`face ${i} is neither the original nor its mirror`);
    }
    expect(same).toBeGreaterThan(10);
    expect(flipped).toBeGreaterThan(10);
  });

  it('crop alone shifts each face by an integer (dx, dy) within ±crop, edge-replicated', () => {
    const crop = 3;
    const face = noiseFace(11);
    const n = 40;
    const batch = tile(face, n);
    augmentBatch(batch, range(n, 100), 2, 5, { crop });
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      let found: string | undefined;
      for (let dy = -crop; dy <= crop && !found; dy++) {
        for (let dx = -crop; dx <= crop && !found; dx++) if (equal(out, shifted(face, dx, dy))) found = `${dx},${dy}`;
      }
      expect(found, `face ${i} is no shift of the original`).toBeDefined();
      seen.add(found!);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it('crop and flip together are a shift of the original or of its mirror', () => {
    const crop = 2;
    const face = noiseFace(12);
    const mirror = mirrored(face);
    const n = 30;
    const batch = tile(face, n);
    augmentBatch(batch, range(n), 1, 9, { crop, flip: true });
    let flips = 0;
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      let match: 'plain' | 'mirror' | undefined;
      for (let dy = -crop; dy <= crop && !match; dy++) {
        for (let dx = -crop; dx <= crop && !match; dx++) {
          if (equal(out, shifted(face, dx, dy))) match = 'plain';
          // Mirroring after the crop: the mirror shifted by (-dx, dy).
          else if (equal(out, shifted(mirror, -dx, dy))) match = 'mirror';
        }
      }
      expect(match, `face ${i}`).toBeDefined();
      if (match === 'mirror') flips++;
    }
    expect(flips).toBeGreaterThan(3);
    expect(flips).toBeLessThan(n - 3);
  });

  it('depends only on (seed, epoch, row): not on the batch a row is in or its place there', () => {
    const faces = new Uint8Array(12 * PIXELS_PER_IMAGE);
    for (let r = 0; r < 12; r++) faces.set(noiseFace(100 + r), r * PIXELS_PER_IMAGE);
    const options: AugmentOptions = { crop: 4, flip: true, rotate: 10, scale: 0.1, erase: 0.5, brightness: 0.2, contrast: 0.2 };
    const run = (rows: number[], epoch: number, seed: number): Uint8Array => {
      const batch = new Uint8Array(rows.length * PIXELS_PER_IMAGE);
      for (let i = 0; i < rows.length; i++) batch.set(faceAt(faces, rows[i]), i * PIXELS_PER_IMAGE);
      augmentBatch(batch, rows, epoch, seed, options);
      return batch;
    };
    const whole = run(range(12), 4, 77);
    const rowsB = [9, 3, 11, 0, 5];
    const partB = run(rowsB, 4, 77);
    for (let i = 0; i < rowsB.length; i++) expect(equal(faceAt(partB, i), faceAt(whole, rowsB[i])), `row ${rowsB[i]}`).toBe(true);
    for (const r of [0, 6, 11]) expect(equal(faceAt(run([r], 4, 77), 0), faceAt(whole, r)), `row ${r} alone`).toBe(true);
    // The whole batch again: the same bytes.
    expect(equal(run(range(12), 4, 77), whole)).toBe(true);
    // Another epoch or seed: other faces (every row here, with this many options on).
    const otherEpoch = run(range(12), 5, 77);
    const otherSeed = run(range(12), 4, 78);
    for (let r = 0; r < 12; r++) {
      expect(equal(faceAt(otherEpoch, r), faceAt(whole, r)), `row ${r}, epoch 5`).toBe(false);
      expect(equal(faceAt(otherSeed, r), faceAt(whole, r)), `row ${r}, seed 78`).toBe(false);
    }
  });

  it('the interpolating path is exact at the identity and agrees with the integer path', () => {
    const face = noiseFace(21);
    const n = 24;
    const integer = tile(face, n);
    augmentBatch(integer, range(n), 0, 3, { crop: 4, flip: true });
    const interpolated = tile(face, n);
    // A rotation of a millionth of a degree takes the bilinear path but moves nothing measurable.
    augmentBatch(interpolated, range(n), 0, 3, { crop: 4, flip: true, rotate: 1e-6 });
    expect(equal(interpolated, integer)).toBe(true);
  });

  it('rotation and scale keep a smooth face in range with its mean brightness', () => {
    const face = faceOf((x, y) => 40 + 3 * x + y + 10 * Math.sin(x / 6) * Math.cos(y / 8));
    const n = 32;
    const batch = tile(face, n);
    augmentBatch(batch, range(n), 1, 13, { rotate: 15, scale: 0.15 });
    const m0 = mean(face);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      expect(Math.abs(mean(out) - m0)).toBeLessThan(6);
      // Bilinear samples of a face in 30..230 stay there.
      expect(Math.min(...out)).toBeGreaterThanOrEqual(Math.min(...face));
      expect(Math.max(...out)).toBeLessThanOrEqual(Math.max(...face));
      if (!equal(out, face)) changed++;
    }
    expect(changed).toBeGreaterThan(n - 3);
  });

  it('erasing with probability 1 fills one contiguous rectangle with the face mean', () => {
    const n = 20;
    const batch = new Uint8Array(n * PIXELS_PER_IMAGE);
    for (let i = 0; i < n; i++) batch.set(noiseFace(300 + i), i * PIXELS_PER_IMAGE);
    const original = batch.slice();
    augmentBatch(batch, range(n), 0, 1, { erase: 1 });
    const areas = new Set<number>();
    for (let i = 0; i < n; i++) {
      const before = faceAt(original, i);
      const after = faceAt(batch, i);
      let [x0, y0, x1, y1] = [S, S, -1, -1];
      for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
        if (before[p] === after[p]) continue;
        const x = p % S;
        const y = (p - x) / S;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
      expect(x1, `face ${i} was not erased`).toBeGreaterThanOrEqual(0);
      const fill = Math.round(mean(before));
      let wrong = 0;
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
          if (after[y * S + x] !== (inside ? fill : before[y * S + x])) wrong++;
        }
      }
      expect(wrong, `face ${i}: pixels off the rectangle of ${fill}`).toBe(0);
      const area = (x1 - x0 + 1) * (y1 - y0 + 1);
      // 2%..20% of the image, give or take the rounding of the sides.
      expect(area).toBeGreaterThanOrEqual(0.02 * PIXELS_PER_IMAGE - 15);
      expect(area).toBeLessThanOrEqual(0.2 * PIXELS_PER_IMAGE + 45);
      areas.add(area);
    }
    expect(areas.size).toBeGreaterThan(5);
  });

  it('brightness alone shifts every pixel by one amount per face, up to clamping', () => {
    const face = faceOf((x, y) => (x * 5 + y * 3) % 256);
    const n = 32;
    const batch = tile(face, n);
    augmentBatch(batch, range(n), 0, 2, { brightness: 0.2 });
    const shifts = new Set<number>();
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      let d: number | undefined;
      let wrong = 0;
      for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
        if (out[p] === 0 || out[p] === 255) continue;
        d ??= out[p] - face[p];
        if (out[p] - face[p] !== d) wrong++;
      }
      expect(d).toBeDefined();
      expect(wrong, `face ${i}: pixels not shifted by ${d}`).toBe(0);
      expect(Math.abs(d!)).toBeLessThanOrEqual(Math.round(0.2 * 255));
      // Clamped pixels went past the end they sit at.
      for (let p = 0; p < PIXELS_PER_IMAGE; p++) {
        if ((out[p] === 255 && face[p] + d! < 255) || (out[p] === 0 && face[p] + d! > 0)) wrong++;
      }
      expect(wrong, `face ${i}: pixels clamped wrongly`).toBe(0);
      shifts.add(d!);
    }
    expect(shifts.size).toBeGreaterThan(10);
  });

  it('contrast alone keeps the mean and scales the spread within ±contrast', () => {
    const face = noiseFace(5, 80, 170);
    const n = 32;
    const batch = tile(face, n);
    augmentBatch(batch, range(n), 0, 4, { contrast: 0.3 });
    const m0 = mean(face);
    const spread = (f: Uint8Array, m: number): number => Math.sqrt(f.reduce((s, v) => s + (v - m) ** 2, 0) / f.length);
    const s0 = spread(face, m0);
    const gains = new Set<number>();
    for (let i = 0; i < n; i++) {
      const out = faceAt(batch, i);
      const m = mean(out);
      expect(Math.abs(m - m0)).toBeLessThan(1);
      const gain = spread(out, m) / s0;
      expect(gain).toBeGreaterThan(0.7 - 0.02);
      expect(gain).toBeLessThan(1.3 + 0.02);
      gains.add(Math.round(gain * 100));
    }
    expect(gains.size).toBeGreaterThan(10);
  });

  it('every option at once changes every face', () => {
    const n = 16;
    const batch = new Uint8Array(n * PIXELS_PER_IMAGE);
    for (let i = 0; i < n; i++) batch.set(noiseFace(500 + i), i * PIXELS_PER_IMAGE);
    const original = batch.slice();
    augmentBatch(batch, range(n), 0, 8, { crop: 4, flip: true, rotate: 10, scale: 0.1, erase: 0.25, brightness: 0.2, contrast: 0.2 });
    for (let i = 0; i < n; i++) expect(equal(faceAt(batch, i), faceAt(original, i))).toBe(false);
  });
});

describe('describeAugmentation', () => {
  it('names each option on, or says none', () => {
    expect(describeAugmentation(undefined)).toBe('none');
    expect(describeAugmentation({ crop: 0, flip: false })).toBe('none');
    expect(describeAugmentation({ crop: 4, flip: true, rotate: 10, scale: 0.1, erase: 0.25, brightness: 0.2, contrast: 0.2 })).toBe(
      'pad-crop 4, flip, rotate ±10°, scale ±10%, erase 0.25, brightness ±0.2, contrast ±0.2',
    );
  });
});

describe('validateAugmentOptions', () => {
  it('accepts the ranges, bounds included', () => {
    expect(() => validateAugmentOptions({})).not.toThrow();
    expect(() => validateAugmentOptions({ crop: 0, flip: false, rotate: 0, scale: 0, erase: 0, brightness: 0, contrast: 0 })).not.toThrow();
    expect(() => validateAugmentOptions({ crop: 16, flip: true, rotate: 45, scale: 0.5, erase: 1, brightness: 1, contrast: 1 })).not.toThrow();
  });

  it('names the flag of a value out of range', () => {
    const bad: [AugmentOptions, string][] = [
      [{ crop: -1 }, '--crop'],
      [{ crop: 17 }, '--crop'],
      [{ crop: 2.5 }, '--crop'],
      [{ flip: 'yes' as unknown as boolean }, '--flip'],
      [{ rotate: 46 }, '--rotate'],
      [{ rotate: Number.NaN }, '--rotate'],
      [{ scale: 0.6 }, '--scale'],
      [{ erase: 1.5 }, '--erase'],
      [{ brightness: -0.1 }, '--brightness'],
      [{ contrast: 2 }, '--contrast'],
    ];
    for (const [options, flag] of bad) {
      let error: unknown;
      try {
        validateAugmentOptions(options);
      } catch (e) {
        error = e;
      }
      expect(isFerError(error), JSON.stringify(options)).toBe(true);
      expect((error as Error).message).toContain(flag);
    }
  });
});
