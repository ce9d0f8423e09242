import { beforeAll, describe, expect, it } from 'vitest';
import { gradCheck, GradCheckError } from './gradcheck.js';
import { tf, useCpuBackend } from './tf.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await useCpuBackend();
});

const softplusSum = (x: Float64Array) => x.reduce((a, v) => a + Math.log1p(Math.exp(v)), 0);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('gradCheck on float64 functions', () => {
  const x = Float64Array.from([-1.3, 0.2, 2.5]);

  it('passes a right gradient', () => {
    const r = gradCheck(softplusSum, [x], { grad: (v) => [v.map(sigmoid)] });
    expect(r.pass).toBe(true);
    expect(r.dtype).toBe('float64');
    expect(r.maxRelError).toBeLessThan(1e-8);
  });

  it('catches a wrong gradient, naming the entry', () => {
    // tanh instead of sigmoid: a gradient of the right sign and shape, wrong everywhere but nowhere wild.
    const r = gradCheck(softplusSum, [x], { grad: (v) => [v.map(Math.tanh)] });
    expect(r.pass).toBe(false);
    expect(r.failures.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(r.kinks).toEqual([]);
    expect(() => gradCheck(softplusSum, [x], { grad: (v) => [v.map(Math.tanh)], throwOnFailure: true })).toThrow(/input 0\[0\] = -1.3: analytic/);
  });

  it('checks several inputs', () => {
    const f = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i] * b[i], 0);
    const good = gradCheck(
      f,
      [
        [1, 2],
        [3, -4],
      ],
      { grad: (a, b) => [b.map((v) => v * v), b.map((v, i) => 2 * a[i] * v)] },
    );
    expect(good.pass).toBe(true);
    const bad = gradCheck(
      f,
      [
        [1, 2],
        [3, -4],
      ],
      { grad: (a, b) => [b.map((v) => v * v), b.map((v, i) => a[i] * v)] },
    );
    expect(bad.failures.map((e) => [e.input, e.index])).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  it('reports a kink of LeakyReLU as a kink, with both one-sided slopes', () => {
    const leaky = (v: Float64Array) => v.reduce((s, t) => s + (t > 0 ? t : 0.05 * t), 0);
    const dLeaky = (v: Float64Array) => [v.map((t) => (t > 0 ? 1 : 0.05))];
    const at = gradCheck(leaky, [[0, 1.5, -2]], { grad: dLeaky });
    expect(at.pass).toBe(false);
    expect(at.kinks.map((e) => e.index)).toEqual([0]);
    expect(at.kinks[0].kink!.left).toBeCloseTo(0.05, 9);
    expect(at.kinks[0].kink!.right).toBeCloseTo(1, 9);
    expect(gradCheck(leaky, [[0, 1.5, -2]], { grad: dLeaky, allowKinks: true }).pass).toBe(true);
    // A wrong gradient at the kink (outside both slopes) is a plain failure, not excused as a kink.
    const wrong = gradCheck(leaky, [[0]], { grad: () => [[3]], allowKinks: true });
    expect(wrong.pass).toBe(false);
    expect(wrong.kinks).toEqual([]);
    // Away from 0 the same function checks cleanly.
    expect(gradCheck(leaky, [[0.3, -0.7]], { grad: dLeaky }).pass).toBe(true);
  });

  it('explains misuse', () => {
    expect(() => gradCheck(softplusSum, [x], {} as never)).toThrow(/pass options.grad/);
    expect(() => gradCheck(softplusSum, [x], { grad: () => [[1]] })).toThrow(/one array per input with the input's length \(3\)/);
    expect(() => gradCheck((() => Number.NaN) as never, [x], { grad: (v) => [v] })).toThrow(/finite number/);
    expect(() => gradCheck(softplusSum, [], { grad: (v) => [v] })).toThrow(GradCheckError);
  });
});

describe('gradCheck on tfjs functions', () => {
  it('passes tfjs autodiff of a smooth function', () => {
    const x = tf.tensor1d([0.3, -1.2, 2.0]);
    const r = gradCheck((v) => tf.sum(tf.mul(tf.sin(v), tf.exp(tf.mul(v, 0.5)))), [x]);
    expect(r.dtype).toBe('float32');
    expect(r.pass).toBe(true);
  });

  it('flags a tfjs leakyRelu input at 0 and a max-pool tie as kinks, and passes them away from the kink', () => {
    const leaky = (v: tf.Tensor) => tf.sum(tf.leakyRelu(v, 0.05));
    const at = gradCheck(leaky, [tf.tensor1d([0, 0.8])]);
    expect(at.kinks.map((e) => e.index)).toEqual([0]);
    expect(at.pass).toBe(false);
    expect(gradCheck(leaky, [tf.tensor1d([0, 0.8])], { allowKinks: true }).pass).toBe(true);
    expect(gradCheck(leaky, [tf.tensor1d([-0.4, 0.8])]).pass).toBe(true);

    const weights = tf.tensor4d([1, -2, 0.5, 3], [1, 2, 2, 1]);
    const pool = (v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), 1.5));
    // A 4x4 image, 2x2 pooling: the top-left window has a tie (0.7, 0.7).
    const tie = tf.tensor4d([0.7, 0.7, 0.1, 0.2, 0.1, 0.3, 0.9, 0.4, 0.5, 0.6, 0.2, 0.1, 0.3, 0.8, 0.4, 0.6], [1, 4, 4, 1]);
    const r = gradCheck(pool, [tie]);
    expect(r.kinks.map((e) => e.index).sort()).toEqual([0, 1]);
    const distinct = tf.tensor4d([0.7, 0.5, 0.1, 0.2, 0.1, 0.3, 0.9, 0.4, 0.5, 0.6, 0.2, 0.1, 0.3, 0.8, 0.4, 0.65], [1, 4, 4, 1]);
    expect(gradCheck(pool, [distinct]).pass).toBe(true);
    weights.dispose();
  });

  it('rejects a non-scalar output', () => {
    expect(() => gradCheck((v) => tf.mul(v, 2), [tf.tensor1d([1, 2])])).toThrow(/scalar tensor, got shape \[2\]/);
  });
});
