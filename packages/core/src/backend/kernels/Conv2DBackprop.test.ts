import { describe, expect, it } from 'vitest';
import { maxRelDiff, randomArray, runOn } from '../test_util.js';

// [n, h, w, ci, co, k(h), k(w), stride, pad]; ci <= 4 takes the matrix-product path, ci > 4 the convolution one.
const cases: [number, number, number, number, number, number, number, number, 'same' | 'valid'][] = [
  [2, 9, 9, 6, 4, 3, 3, 1, 'same'],
  [2, 9, 9, 6, 4, 3, 3, 1, 'valid'],
  [2, 9, 8, 6, 4, 3, 3, 2, 'same'],
  [2, 10, 10, 5, 4, 3, 3, 2, 'valid'],
  [1, 8, 8, 8, 5, 2, 2, 1, 'same'],
  [1, 9, 9, 5, 5, 4, 2, 2, 'same'],
  [1, 11, 11, 7, 3, 4, 4, 3, 'valid'],
  [2, 9, 9, 3, 4, 3, 3, 1, 'same'],
  [2, 9, 9, 3, 4, 3, 3, 1, 'valid'],
  [2, 9, 8, 3, 4, 3, 3, 2, 'same'],
  [2, 10, 10, 3, 4, 3, 3, 2, 'valid'],
  [1, 8, 8, 2, 5, 2, 2, 1, 'same'],
  [1, 9, 9, 2, 5, 4, 2, 2, 'same'],
  [1, 11, 11, 2, 3, 4, 4, 3, 'valid'],
  [3, 12, 12, 1, 8, 5, 5, 1, 'same'],
  [2, 9, 9, 1, 4, 3, 3, 1, 'valid'],
  [1, 8, 8, 1, 3, 4, 4, 1, 'same'],
  [2, 10, 10, 1, 4, 3, 3, 2, 'same'],
];

describe.each(cases)('conv gradients n=%i h=%i w=%i ci=%i co=%i k=%ix%i stride=%i %s', (n, h, w, ci, co, kh, kw, s, pad) => {
  const outH = pad === 'same' ? Math.ceil(h / s) : Math.ceil((h - kh + 1) / s);
  const outW = pad === 'same' ? Math.ceil(w / s) : Math.ceil((w - kw + 1) / s);
  const x = { values: randomArray(n * h * w * ci, 1), shape: [n, h, w, ci] };
  const dy = { values: randomArray(n * outH * outW * co, 2), shape: [n, outH, outW, co] };
  const filter = { values: randomArray(kh * kw * ci * co, 3), shape: [kh, kw, ci, co] };
  const common = { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };

  it('Conv2DBackpropInput matches the cpu backend', async () => {
    const attrs = { ...common, inputShape: [n, h, w, ci] };
    const [ref] = await runOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const [got] = await runOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-4);
  });

  it('Conv2DBackpropFilter matches the cpu backend', async () => {
    const attrs = { ...common, filterShape: [kh, kw, ci, co] };
    const [ref] = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const [got] = await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-4);
  });
});
