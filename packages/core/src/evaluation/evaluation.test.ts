import { describe, expect, it } from 'vitest';
import { classificationReport, confusionMatrix, argmaxRows } from './metrics.js';
import { flipHorizontal, submissionCsv } from './predict.js';

describe('classificationReport', () => {
  it('computes precision, recall, F1 and the worst pair from a known matrix', () => {
    const c: number[][] = Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => (i === j ? 8 : 0)));
    c[0][1] = 2; // angry -> disgust twice
    c[4][6] = 1; // sad -> neutral once
    const r = classificationReport(c);
    expect(r.size).toBe(59);
    expect(r.accuracy).toBeCloseTo(56 / 59, 10);
    expect(r.classes[0].recall).toBeCloseTo(0.8, 10);
    expect(r.classes[1].precision).toBeCloseTo(0.8, 10);
    expect(r.classes[1].f1).toBeCloseTo((2 * 0.8 * 1) / 1.8, 10);
    expect(r.mostConfused[0]).toMatchObject({ trueClass: 'angry', predicted: 'disgust', count: 2, rate: 0.2 });
    expect(r.confusionNormalized[4][6]).toBeCloseTo(1 / 9, 10);
    expect(r.summary.join(' ')).toContain('angry taken for disgust');
  });
  it('builds the matrix from predictions, ignoring unlabelled rows', () => {
    const m = confusionMatrix([0, 1, 1, 3], [0, 0, -1, 3]);
    expect(m[0][0]).toBe(1);
    expect(m[0][1]).toBe(1);
    expect(m[3][3]).toBe(1);
    expect(m.flat().reduce((a, b) => a + b)).toBe(3);
  });
});

describe('prediction helpers', () => {
  it('mirrors faces and writes id,label', () => {
    const p = new Uint8Array(2304 * 2);
    p[0] = 9;
    p[2304 + 48 + 1] = 7;
    const f = flipHorizontal(p);
    expect(f[47]).toBe(9);
    expect(f[2304 + 48 + 46]).toBe(7);
    expect(flipHorizontal(f)).toEqual(p);
    const probs = new Float32Array(14);
    probs[3] = 1;
    probs[7 + 5] = 1;
    expect(Array.from(argmaxRows(probs))).toEqual([3, 5]);
    expect(submissionCsv(['10', '11'], probs)).toBe('id,label\n10,3\n11,5\n');
  });
});
