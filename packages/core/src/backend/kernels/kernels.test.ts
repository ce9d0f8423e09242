import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels, useFerKernels } from '../registry.js';
import { maxRelDiff, randomArray, runOn } from '../test_util.js';
import { nativeCalls } from '../native/native.js';
import { withFlags } from '../../flags.js';

const input = (shape: number[], seed: number) => ({
  values: randomArray(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ),
  shape,
});

// Our kernels have a WebAssembly SIMD path and a JS one (where SIMD is missing, or c % 4 != 0); both run.
const simdModes = [
  ['simd', true],
  ['js', false],
] as const;
function withSimd(simdKernels: boolean, f: () => Promise<void>): () => Promise<void> {
  return () => withFlags({ simdKernels }, f);
}

describe.each(simdModes)('MaxPoolGrad (%s)', (_, mode) => {
  // [h, w, c, filter, stride, pad]
  const cases: [number, number, number, number, number, 'same' | 'valid'][] = [
    [8, 8, 4, 2, 2, 'valid'],
    [9, 7, 8, 2, 2, 'valid'],
    [8, 8, 3, 2, 2, 'valid'],
    [9, 7, 2, 2, 2, 'same'],
    [9, 9, 2, 3, 2, 'same'],
    [7, 7, 2, 3, 1, 'same'],
    [10, 10, 4, 4, 3, 'valid'],
  ];
  it.each(cases)('h=%i w=%i c=%i filter=%i stride=%i %s matches the cpu backend', (h, w, c, f, s, pad) =>
    withSimd(mode, async () => {
      const x = input([2, h, w, c], 4);
      await tf.setBackend('cpu');
      const out = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values, x.shape as [number, number, number, number]), f, s, pad));
      const y = { values: out.dataSync() as Float32Array, shape: out.shape };
      out.dispose();
      const dy = input(y.shape, 5);
      const attrs = { filterSize: [f, f], strides: [s, s], pad, dimRoundingMode: undefined };
      const [ref] = await runOn('cpu', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
      const [got] = await runOn('wasm', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-6);
    })(),
  );
});

describe.each(simdModes)('MaxPoolGrad with ties (%s)', (_, mode) => {
  it(
    'sends each window’s gradient to its first maximum, as the cpu backend does',
    withSimd(mode, async () => {
      const x = input([2, 6, 6, 4], 13);
      x.values = x.values.map((v) => Math.round(v)); // -1, 0, 1: many ties
      await tf.setBackend('cpu');
      const out = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values, x.shape as [number, number, number, number]), 2, 2, 'valid'));
      const y = { values: out.dataSync() as Float32Array, shape: out.shape };
      out.dispose();
      const dy = input(y.shape, 14);
      const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
      const [ref] = await runOn('cpu', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
      const [got] = await runOn('wasm', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
      expect(maxRelDiff(got.values, ref.values)).toBe(0);
    }),
  );
});

describe.each(simdModes)('FerLeakyReluGrad (%s)', (_, mode) => {
  it(
    'is dy where x > 0 and alpha*dy elsewhere, including a tail that is not a multiple of 4',
    withSimd(mode, async () => {
      const x = input([3, 7], 15);
      x.values[0] = 0; // the kink goes to the alpha side, as in tfjs
      const dy = input([3, 7], 16);
      const [got] = await runOn('wasm', 'FerLeakyReluGrad', { dy, x }, { alpha: 0.05 });
      const want = x.values.map((v, i) => (v > 0 ? dy.values[i] : 0.05 * dy.values[i]));
      expect(maxRelDiff(got.values, want)).toBeLessThan(1e-7);
    }),
  );
});

describe('MaxPoolGrad where a window is all negative', () => {
  it('sends it to the window maximum (4 channels: the SIMD path)', async () => {
    const x = { values: Float32Array.from([-4, -1, -1, -1, -3, -2, -2, -2, -2, -3, -3, -3, -1, -4, -4, -4]), shape: [1, 2, 2, 4] };
    const y = { values: Float32Array.from([-1, -1, -1, -1]), shape: [1, 1, 1, 4] };
    const dy = { values: Float32Array.from([1, 2, 3, 4]), shape: [1, 1, 1, 4] };
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
    const [got] = await runOn('wasm', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
    expect(Array.from(got.values)).toEqual([0, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  });
  // tfjs-backend-wasm 4.22's own kernel sends this gradient to -4.
  it('sends it to the window maximum', async () => {
    const x = { values: Float32Array.from([-4, -3, -2, -1]), shape: [1, 2, 2, 1] };
    const y = { values: Float32Array.from([-1]), shape: [1, 1, 1, 1] };
    const dy = { values: Float32Array.from([1]), shape: [1, 1, 1, 1] };
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined };
    const [got] = await runOn('wasm', 'MaxPoolGrad', { dy, input: x, output: y }, attrs);
    expect(Array.from(got.values)).toEqual([0, 0, 0, 1]);
  });
});

describe('BatchMatMul and _FusedMatMul', () => {
  // n = 3: tfjs's kernel (after transposes); n = 8 and 12: fer's native product (n % 4 == 0), m odd and even
  it.each([
    [5, 7, 3, false, false, 2, 2],
    [5, 7, 3, true, true, 2, 2],
    [5, 7, 8, false, false, 2, 2],
    [5, 7, 8, true, false, 2, 2],
    [6, 9, 12, false, true, 2, 2],
    [3, 33, 16, true, true, 1, 1],
    [4, 6, 8, false, false, 1, 3],
    [4, 6, 8, true, true, 3, 1],
  ])('m=%i k=%i n=%i transposeA=%s transposeB=%s batches %i x %i matches the cpu backend', async (m, k, n, ta, tb, ba, bb) => {
    const a = input([ba, ...(ta ? [k, m] : [m, k])], 6);
    const b = input([bb, ...(tb ? [n, k] : [k, n])], 7);
    const attrs = { transposeA: ta, transposeB: tb };
    const [ref] = await runOn('cpu', 'BatchMatMul', { a, b }, attrs);
    const calls = nativeCalls.matmul;
    const [got] = await runOn('wasm', 'BatchMatMul', { a, b }, attrs);
    expect(nativeCalls.matmul - calls).toBe(n % 4 === 0 ? 1 : 0);
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
  });

  it.each([
    [false, false],
    [true, true],
  ])('a dense layer (_FusedMatMul with a bias) matches the cpu backend, transposeA=%s transposeB=%s', async (ta, tb) => {
    const [m, k, n] = [7, 20, 12];
    const a = input([1, ...(ta ? [k, m] : [m, k])], 8);
    const b = input([1, ...(tb ? [n, k] : [k, n])], 9);
    const bias = input([n], 10);
    const attrs = { transposeA: ta, transposeB: tb, activation: 'linear' };
    const [ref] = await runOn('cpu', '_FusedMatMul', { a, b, bias }, attrs);
    const calls = nativeCalls.matmul;
    const [got] = await runOn('wasm', '_FusedMatMul', { a, b, bias }, attrs);
    expect(nativeCalls.matmul - calls).toBe(1);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
  });
});

describe.each(simdModes)('Sum (%s)', (_, mode) => {
  it.each([
    [[3, 300, 8], [0, 1], false],
    [[2, 5, 5, 12], [0, 1, 2], true],
    [[4, 5, 6, 3], [0, 1, 2], false],
    [[4, 5, 6, 3], [0, 1, 2], true],
    [[9, 4], [0], false],
    [[4, 5, 3], [1], false],
    [[4, 5, 3], [0, 1, 2], false],
  ] as [number[], number[], boolean][])('shape %j axes %j keepDims %s matches the cpu backend', (shape, axis, keepDims) =>
    withSimd(mode, async () => {
      const x = input(shape, 8);
      const [ref] = await runOn('cpu', 'Sum', { x }, { axis, keepDims });
      const [got] = await runOn('wasm', 'Sum', { x }, { axis, keepDims });
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
    })(),
  );
});

describe.each(simdModes)('FerBatchNormGradSums (%s)', (_, mode) => {
  it(
    'gives sum(dy) and sum(dy*(x-mean)) per channel',
    withSimd(mode, async () => {
      const [rows, c] = [301, 8];
      const dy = input([rows, c], 17);
      const x = input([rows, c], 18);
      const mean = input([c], 19);
      const [s1, s2] = await runOn('wasm', 'FerBatchNormGradSums', { dy, x, mean }, {});
      const w1 = new Float32Array(c);
      const w2 = new Float32Array(c);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < c; j++) {
          w1[j] += dy.values[r * c + j];
          w2[j] += dy.values[r * c + j] * (x.values[r * c + j] - mean.values[j]);
        }
      }
      expect(maxRelDiff(s1.values, w1)).toBeLessThan(1e-4);
      expect(maxRelDiff(s2.values, w2)).toBeLessThan(1e-4);
    }),
  );
});

/** Gradients of a small LeakyReLU + BatchNorm (training-mode moments) graph, as arrays. */
async function graphGrads(backend: string): Promise<Float32Array[]> {
  if (backend === 'wasm') registerWasmTrainingKernels();
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randomArray(3 * 5 * 4 * 6, 9), [3, 5, 4, 6]);
    const gamma = tf.tensor1d(randomArray(6, 10));
    const beta = tf.tensor1d(randomArray(6, 11));
    const w = tf.tensor4d(randomArray(3 * 5 * 4 * 6, 12), [3, 5, 4, 6]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const a = tf.leakyRelu(xx, 0.05);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, 1e-5), w));
    };
    return tf
      .grads(f)([x, gamma, beta])
      .map((t) => t.dataSync() as Float32Array);
  });
}

describe('gradient overrides (LeakyRelu, FusedBatchNorm, Mean)', () => {
  it('give tfjs’s own gradients of LeakyReLU -> moments -> batchNorm', async () => {
    // Reference first: tfjs's stock gradients on cpu, before our overrides are registered.
    const ref = await graphGrads('cpu');
    const got = await graphGrads('wasm');
    const onCpu = await graphGrads('cpu');
    for (let i = 0; i < ref.length; i++) {
      expect(maxRelDiff(got[i], ref[i])).toBeLessThan(1e-4);
      expect(maxRelDiff(onCpu[i], ref[i])).toBeLessThan(1e-4);
    }
  });
});

describe('LeakyRelu and Mean', () => {
  it.each([
    [[2, 5, 5, 8], 0.05],
    [[3, 7], 0.2],
    [[4, 3], 1.5],
  ] as [number[], number][])('LeakyRelu %j alpha %f matches the cpu backend', async (shape, alpha) => {
    const x = input(shape, 20);
    const [ref] = await runOn('cpu', 'LeakyRelu', { x }, { alpha });
    const [got] = await runOn('wasm', 'LeakyRelu', { x }, { alpha });
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-7);
  });
  it.each([
    [[4, 5, 6, 8], [0, 1, 2], false],
    [[4, 5, 6, 8], [0, 1, 2], true],
    [[300, 4], [0], false],
    [[4, 5, 6], [1], false],
    [[4, 5, 3], [0, 1], false],
    // global average pooling (axes [1, 2] of NHWC): per-image SIMD sums; odd channel counts and other runs go to the stock kernel
    [[4, 5, 6, 8], [1, 2], false],
    [[4, 5, 6, 8], [2, 1], true],
    [[3, 6, 6, 12], [1, 2], false],
    [[2, 3, 3, 6], [1, 2], false],
    [[2, 3, 3, 4], [1], false],
    [[2, 3, 3, 4], [0, 2], false],
    [[2, 3, 4, 5, 8], [2, 3], false],
  ] as [number[], number[], boolean][])('Mean %j axes %j keepDims %s matches the cpu backend', async (shape, axis, keepDims) => {
    const x = input(shape, 21);
    const [ref] = await runOn('cpu', 'Mean', { x }, { axis, keepDims });
    const [got] = await runOn('wasm', 'Mean', { x }, { axis, keepDims });
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
  });
});

describe('MaxPool', () => {
  it.each([
    [[2, 8, 8, 4], 2, 2, 'valid'],
    [[2, 9, 7, 8], 2, 2, 'valid'],
    [[1, 9, 9, 4], 2, 2, 'same'],
    [[1, 8, 8, 3], 2, 2, 'valid'],
    [[1, 9, 9, 4], 3, 2, 'same'],
  ] as [number[], number, number, 'same' | 'valid'][])('%j filter %i stride %i %s matches the cpu backend', async (shape, f, s, pad) => {
    const x = input(shape, 22);
    const attrs = { filterSize: [f, f], strides: [s, s], pad, dimRoundingMode: undefined };
    const [ref] = await runOn('cpu', 'MaxPool', { x }, attrs);
    const [got] = await runOn('wasm', 'MaxPool', { x }, attrs);
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBe(0);
  });
});

describe('Cast', () => {
  it('to the dtype a tensor has shares its data; real casts still convert', async () => {
    const x = input([3, 5], 23);
    const [same] = await runOn('wasm', 'Cast', { x }, { dtype: 'float32' });
    expect(Array.from(same.values)).toEqual(Array.from(x.values));
    const [ref] = await runOn('cpu', 'Cast', { x }, { dtype: 'int32' });
    const [got] = await runOn('wasm', 'Cast', { x }, { dtype: 'int32' });
    expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    // shared, not copied: no new buffer in the backend, and disposing the cast leaves the source intact
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const t = tf.tensor(x.values, x.shape);
    const buffers = tf.engine().backend.numDataIds();
    const c = tf.cast(t, 'float32');
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    c.dispose();
    expect(Array.from(t.dataSync())).toEqual(Array.from(x.values));
    t.dispose();
  });
});

describe.each(simdModes)('FusedBatchNorm (%s)', (_, mode) => {
  // [x shape, statistics shape, with scale, with offset]
  it.each([
    [[2, 5, 5, 8], [8], true, true],
    [[3, 4, 12], [12], true, false],
    [[2, 3, 3, 8], [1, 1, 1, 8], false, true],
    [[2, 3, 3, 8], [8], false, false],
    [[2, 3, 3, 6], [6], true, true], // c % 4 != 0: the stock kernel
  ] as [number[], number[], boolean, boolean][])('x %j statistics %j scale %s offset %s matches the cpu backend', (shape, statShape, withScale, withOffset) =>
    withSimd(mode, async () => {
      const x = input(shape, 29);
      const mean = input(statShape, 30);
      const variance = input(statShape, 31);
      variance.values = variance.values.map((v) => v + 1.5); // positive
      const inputs: Record<string, { values: Float32Array; shape: number[] }> = { x, mean, variance };
      if (withScale) inputs.scale = input(statShape, 32);
      if (withOffset) inputs.offset = input(statShape, 33);
      const [ref] = await runOn('cpu', 'FusedBatchNorm', inputs, { varianceEpsilon: 1e-5 });
      const [got] = await runOn('wasm', 'FusedBatchNorm', inputs, { varianceEpsilon: 1e-5 });
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelDiff(got.values, ref.values)).toBeLessThan(2e-6);
    })(),
  );
});

describe.each(simdModes)('FerScaledMul (%s)', (_, mode) => {
  it(
    'is a * b * scale, including a tail that is not a multiple of 4',
    withSimd(mode, async () => {
      const a = input([3, 7], 34);
      const b = input([3, 7], 35);
      const [got] = await runOn('wasm', 'FerScaledMul', { a, b }, { scale: 2 });
      expect(
        maxRelDiff(
          got.values,
          a.values.map((v, i) => v * b.values[i] * 2),
        ),
      ).toBe(0);
    }),
  );
});

describe('FerMeanGrad', () => {
  it.each([
    [[4, 3, 8], [8]],
    [[2, 3, 3, 4], [2 * 4]],
    [[2, 3, 3, 5], [2 * 5]],
  ] as [number[], number[]][])('fills shape %j from dy %j: dy of its group / rows on every row', async (shape, dyShape) => {
    const dy = input(dyShape, 24);
    const [got] = await runOn('wasm', 'FerMeanGrad', { dy }, { shape });
    const c = shape[shape.length - 1];
    const groups = dyShape[0] / c;
    const rows = shape.reduce((a, b) => a * b, 1) / c / groups;
    const want = new Float32Array(got.values.length);
    for (let g = 0; g < groups; g++) for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) want[(g * rows + r) * c + j] = dy.values[g * c + j] / rows;
    expect(got.shape).toEqual(shape);
    expect(maxRelDiff(got.values, want)).toBeLessThan(1e-6);
  });
});

/** Gradients of a vgg block's tail: ReLU -> BatchNorm (training-mode moments) -> ReLU -> global average pool, as arrays. */
async function vggTailGrads(backend: string): Promise<Float32Array[]> {
  if (backend === 'wasm') registerWasmTrainingKernels();
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const values = randomArray(3 * 5 * 4 * 8, 25);
    values[0] = 0; // ReLU's kink: no gradient, as tfjs's step(0) = 0
    const x = tf.tensor4d(values, [3, 5, 4, 8]);
    const gamma = tf.tensor1d(randomArray(8, 26));
    const beta = tf.tensor1d(randomArray(8, 27));
    const w = tf.tensor2d(randomArray(3 * 8, 28), [3, 8]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const a = tf.relu(xx);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      const y = tf.relu(tf.batchNorm(a, mean, variance, b, g, 1e-5));
      return tf.sum(tf.mul(tf.mean(y, [1, 2]), w));
    };
    return tf
      .grads(f)([x, gamma, beta])
      .map((t) => t.dataSync() as Float32Array);
  });
}

describe('gradient overrides (Relu, Mean over [1, 2])', () => {
  it('give tfjs’s own gradients of ReLU -> moments -> batchNorm -> ReLU -> global average pool', async () => {
    useFerKernels(() => false); // tfjs's own gradients for the reference
    const ref = await vggTailGrads('cpu');
    useFerKernels(() => true);
    const got = await vggTailGrads('wasm');
    const onCpu = await vggTailGrads('cpu'); // the overrides' fallbacks where fer's ops are missing
    for (let i = 0; i < ref.length; i++) {
      expect(maxRelDiff(got[i], ref[i])).toBeLessThan(1e-4);
      expect(maxRelDiff(onCpu[i], ref[i])).toBeLessThan(1e-4);
    }
  });

  it('run as fer’s one-pass kernels on wasm: FerLeakyReluGrad (no Step), FerMeanGrad for the pool', async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const prof = await tf.profile(() => {
      tf.dispose(vggTailGradsSync());
    });
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'FerLeakyReluGrad')).toHaveLength(2);
    expect(names).not.toContain('Step');
    expect(names.filter((n) => n === 'FerMeanGrad').length).toBeGreaterThanOrEqual(3); // the pool's, and the moments' two
    expect(names.filter((n) => n === 'FerScaledMul')).toHaveLength(1); // the moments' square
  });
});

function vggTailGradsSync(): tf.Tensor[] {
  const x = tf.tensor4d(randomArray(3 * 5 * 4 * 8, 25), [3, 5, 4, 8]);
  const g = tf.tensor1d(randomArray(8, 26));
  const b = tf.tensor1d(randomArray(8, 27));
  const f = (xx: tf.Tensor) => {
    const a = tf.relu(xx);
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return tf.sum(tf.mean(tf.relu(tf.batchNorm(a, mean, variance, b, g, 1e-5)), [1, 2]));
  };
  const out = tf.grads(f)([x]);
  tf.dispose([x, g, b]);
  return out;
}
