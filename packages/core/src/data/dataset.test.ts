import { describe, expect, it } from 'vitest';
import { FerError } from '../errors.js';
import { splitByRows, splitByUsage, type FaceDataset } from './dataset.js';

function faces(usage: string[]): FaceDataset {
  const n = usage.length;
  return { pixels: new Uint8Array(n * 2304), labels: Int8Array.from({ length: n }, (_, i) => i % 7), size: n, usage, source: 'fer2013.csv', format: 'kaggle-csv', skipped: 0 };
}

describe('splits', () => {
  it('rows: only Training rows take part, the first trainRows train', () => {
    const s = splitByRows(faces(['Training', 'PublicTest', 'Training', 'Training', 'PrivateTest']), 2);
    expect(s.train.size).toBe(2);
    expect(s.validation.size).toBe(1);
    expect(s.train.usage).toEqual(['Training', 'Training']);
  });

  it('rows on a file with no Training rows: says why nothing trains and what to do', () => {
    const e = (() => {
      try {
        splitByRows(faces(['PublicTest', 'PublicTest', 'PrivateTest']), 1);
      } catch (x) {
        return x as FerError;
      }
    })();
    expect(e).toBeInstanceOf(FerError);
    expect(e!.message).toMatch(/fer2013\.csv has 0 row\(s\) marked Training in its Usage column \(it has 2 PublicTest, 1 PrivateTest\): only Training rows train/);
    expect(e!.hint).toMatch(/--usage PublicTest/);
  });

  it('usage: Training trains, PublicTest validates', () => {
    const s = splitByUsage(faces(['Training', 'PublicTest', 'Training', 'PrivateTest']));
    expect([s.train.size, s.validation.size]).toEqual([2, 1]);
  });
});
