import { describe, expect, it } from 'vitest';
import { BLAZE_INPUT, blazeAnchors, decodeBlaze } from './blaze.js';

const N = 896;

/** Raw outputs with every logit at -10 (no face) and the given anchors set: logit and regressors (dx dy w h eyes). */
function outputs(set: { anchor: number; logit: number; reg: number[] }[]): { scores: Float32Array; regressors: Float32Array } {
  const scores = new Float32Array(N).fill(-10);
  const regressors = new Float32Array(N * 16);
  for (const s of set) {
    scores[s.anchor] = s.logit;
    regressors.set(s.reg, s.anchor * 16);
  }
  return { scores, regressors };
}

describe('blazeAnchors', () => {
  it("MediaPipe's layout: 16x16 cells of 2 anchors (stride 16), then 8x8 of 6 (stride 32), centres in input pixels", () => {
    const a = blazeAnchors();
    expect(a).toHaveLength(N);
    expect(a[0]).toEqual({ x: 8, y: 8 });
    expect(a[1]).toEqual({ x: 8, y: 8 });
    expect(a[2]).toEqual({ x: 24, y: 8 });
    // row 1 of the first grid starts after 16 cells of 2
    expect(a[32]).toEqual({ x: 8, y: 24 });
    expect(a[511]).toEqual({ x: 248, y: 248 });
    expect(a[512]).toEqual({ x: 16, y: 16 });
    expect(a[517]).toEqual({ x: 16, y: 16 });
    expect(a[518]).toEqual({ x: 48, y: 16 });
    expect(a[N - 1]).toEqual({ x: 240, y: 240 });
  });
});

describe('decodeBlaze', () => {
  it('puts the box at the anchor plus its offset, sized by the regressors, with the eyes; sigmoid scores', () => {
    // anchor 600 is in the 8x8 grid: (600 - 512) / 6 = cell 14 -> column 6, row 1 -> centre (208, 48)
    const { scores, regressors } = outputs([{ anchor: 600, logit: 2, reg: [4, -6, 40, 50, -10, -8, 10, -7] }]);
    const [d, ...rest] = decodeBlaze(scores, regressors, 0.5);
    expect(rest).toHaveLength(0);
    expect(d.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(d.box).toEqual({ x: 212 - 20, y: 42 - 25, width: 40, height: 50 });
    expect(d.eyes).toEqual([
      { x: 198, y: 40 },
      { x: 218, y: 41 },
    ]);
  });

  it('keeps scores at or over minScore only, the highest first, and one box where boxes overlap (IoU over 0.3)', () => {
    const { scores, regressors } = outputs([
      { anchor: 100, logit: 1, reg: [0, 0, 30, 30] }, // 0.73, at anchor 100's centre
      { anchor: 101, logit: 3, reg: [2, 1, 30, 30] }, // 0.95, the same place: suppressed the other
      { anchor: 300, logit: 0.5, reg: [0, 0, 20, 20] }, // 0.62, elsewhere
      { anchor: 700, logit: -1, reg: [0, 0, 20, 20] }, // 0.27: under the minimum
    ]);
    const found = decodeBlaze(scores, regressors, 0.5);
    expect(found.map((d) => Number(d.score.toFixed(2)))).toEqual([0.95, 0.62]);
    const a = blazeAnchors();
    expect(found[0].box.x).toBeCloseTo(a[101].x + 2 - 15, 5);
    expect(found[1].box.x).toBeCloseTo(a[300].x - 10, 5);
    // every box lies within the input for these offsets
    for (const d of found) expect(d.box.x + d.box.width).toBeLessThanOrEqual(BLAZE_INPUT);
    // with a looser overlap rule both of the same place stay
    expect(decodeBlaze(scores, regressors, 0.5, 0.99)).toHaveLength(3);
  });

  it('skips boxes of no size and refuses outputs of the wrong length', () => {
    const { scores, regressors } = outputs([{ anchor: 5, logit: 5, reg: [0, 0, 0, 10] }]);
    expect(decodeBlaze(scores, regressors, 0.5)).toEqual([]);
    expect(() => decodeBlaze(scores.subarray(1), regressors, 0.5)).toThrow(/expected 896 scores and 14336 regressors/);
  });
});
