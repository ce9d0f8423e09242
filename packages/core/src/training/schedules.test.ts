import { describe, expect, it } from 'vitest';
import { LR_SCHEDULES, learningRateAt } from './schedules.js';

const o = { baseLr: 0.1, epochs: 10, batchesPerEpoch: 100 };
const at = (schedule: (typeof LR_SCHEDULES)[number], epoch: number, batch: number, warmupEpochs?: number) => learningRateAt({ ...o, schedule, warmupEpochs }, epoch, batch);

describe('learning-rate schedules', () => {
  it('constant stays at the base rate', () => {
    expect([at('constant', 0, 0), at('constant', 9, 99)]).toEqual([0.1, 0.1]);
  });

  it('cosine starts at the base rate, halves at mid-run and ends near 0', () => {
    expect(at('cosine', 0, 0)).toBeCloseTo(0.1, 12);
    expect(at('cosine', 5, 0)).toBeCloseTo(0.05, 12);
    expect(at('cosine', 9, 99)).toBeLessThan(1e-5);
  });

  it('warmup-cosine rises linearly from base/25 over the warm-up epochs, peaks, then falls to 0', () => {
    expect(at('warmup-cosine', 0, 0, 2)).toBeCloseTo(0.1 / 25, 12);
    expect(at('warmup-cosine', 1, 0, 2)).toBeCloseTo(0.1 / 25 + (0.1 - 0.1 / 25) / 2, 12);
    expect(at('warmup-cosine', 2, 0, 2)).toBeCloseTo(0.1, 12);
    const later = [3, 5, 7, 9].map((e) => at('warmup-cosine', e, 0, 2));
    for (let i = 1; i < later.length; i++) expect(later[i]).toBeLessThan(later[i - 1]);
    expect(at('warmup-cosine', 9, 99, 2)).toBeLessThan(1e-5);
  });

  it('onecycle climbs from base/25 to the base rate at 30% and anneals far below the start', () => {
    expect(at('onecycle', 0, 0)).toBeCloseTo(0.1 / 25, 12);
    expect(at('onecycle', 3, 0)).toBeCloseTo(0.1, 12);
    expect(at('onecycle', 1, 50)).toBeGreaterThan(at('onecycle', 1, 0));
    expect(at('onecycle', 9, 99)).toBeLessThan(0.1 / 25 / 100);
  });

  it('step divides by ten at half the epochs and again at three quarters', () => {
    expect([at('step', 4, 99), at('step', 5, 0), at('step', 6, 99), at('step', 7, 0)]).toEqual([0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.01]);
  });

  it('depends on (epoch, batch) only: the same rate however often it is asked', () => {
    for (const s of LR_SCHEDULES) expect(at(s, 3, 17)).toBe(at(s, 3, 17));
  });
});
