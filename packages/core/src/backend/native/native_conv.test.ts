import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { maxRelDiff, randomArray, runOn } from '../test_util.js';
import { flags, withFlags } from '../../flags.js';
import { mosaicFor, nativeBuild, nativeCalls, relaxedSimdSupported } from './native.js';
import { NATIVE_SOURCE_SHA256 } from './native_wasm.js';

// [n, h, w, ci, co, pad]: whole and partial 4x4 output tiles, 'same' and 'valid', channel counts that
// fill the 4x8 matrix-product blocks and ones that leave remainders (rows and columns).
const cases: [number, number, number, number, number, 'same' | 'valid'][] = [
  [2, 8, 8, 4, 8, 'same'],
  [1, 6, 6, 8, 4, 'same'],
  [3, 7, 9, 12, 20, 'same'],
  [2, 9, 7, 4, 12, 'valid'],
  [1, 12, 12, 16, 16, 'valid'],
  [2, 5, 5, 8, 8, 'same'],
  [1, 3, 3, 4, 4, 'valid'],
];

describe.each(cases)('Winograd F(4x4,3x3) n=%i h=%i w=%i ci=%i co=%i %s', (n, h, w, ci, co, pad) => {
  const oh = pad === 'same' ? h : h - 2;
  const ow = pad === 'same' ? w : w - 2;
  const x = { values: randomArray(n * h * w * ci, 21), shape: [n, h, w, ci] };
  const filter = { values: randomArray(9 * ci * co, 22), shape: [3, 3, ci, co] };
  const bias = { values: randomArray(co, 23), shape: [co] };
  const dy = { values: randomArray(n * oh * ow * co, 24), shape: [n, oh, ow, co] };
  const common = { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };

  async function compare(kernel: string, inputs: Record<string, { values: Float32Array; shape: number[] }>, attrs: Record<string, unknown>, winograd = true) {
    const [ref] = await runOn('cpu', kernel, inputs, attrs);
    const before = nativeCalls.winograd;
    const [got] = await runOn('wasm', kernel, inputs, attrs);
    if (winograd) expect(nativeCalls.winograd).toBeGreaterThan(before); // the Winograd path ran, not XNNPACK
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-4);
  }

  it('Conv2D matches the cpu backend', () => compare('Conv2D', { x, filter }, common));
  it('FusedConv2D with a bias matches the cpu backend', () => compare('FusedConv2D', { x, filter, bias }, { ...common, activation: 'linear' }));
  // With few input channels the input gradient is a matrix product instead (small_channels.ts).
  it('Conv2DBackpropInput matches the cpu backend', () => compare('Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: [n, h, w, ci] }, ci > flags.smallChannelGradMax));
  it('Conv2DBackpropFilter matches the cpu backend', () => compare('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [3, 3, ci, co] }));
});

describe('Winograd with a transformed filter over 6 MB (vgg: 256 -> 256 channels)', () => {
  it('takes blocks of every tile in the forward pass, with the same results as cache-sized blocks and as the cpu backend', async () => {
    const [n, h, ci, co] = [5, 5, 256, 256]; // 20 tiles: one block where cache-sized blocks hold 16
    const x = { values: randomArray(n * h * h * ci, 41), shape: [n, h, h, ci] };
    const filter = { values: randomArray(9 * ci * co, 42), shape: [3, 3, ci, co] };
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
    const [ref] = await runOn('cpu', 'Conv2D', { x, filter }, attrs);
    const before = nativeCalls.winograd;
    const [got] = await runOn('wasm', 'Conv2D', { x, filter }, attrs);
    expect(nativeCalls.winograd).toBeGreaterThan(before);
    const [blocked] = await withFlags({ winogradTileBlock: 16 }, () => runOn('wasm', 'Conv2D', { x, filter }, attrs));
    expect(Array.from(got.values)).toEqual(Array.from(blocked.values)); // blocking only reorders the tiles
    // F(4x4, 3x3) rounds more than a direct sum: 2,304 terms per output agree to 1e-4 of the outputs' scale
    const scale = ref.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(
      maxRelDiff(
        got.values.map((v) => v / scale),
        ref.values.map((v) => v / scale),
      ),
    ).toBeLessThan(1e-4);
  });
});

describe('Winograd on small images as one mosaic', () => {
  // [n, h, ci, co]: 6x6 (vgg's last stage; 8 images: a 3 x 3 grid with an empty cell), 2x2; 'same' padding
  it.each([
    [8, 6, 8, 12],
    [32, 6, 8, 8],
    [16, 2, 8, 4],
  ])('n=%i h=w=%i ci=%i co=%i: forward, input and filter gradients as the cpu backend, through the mosaic', async (n, h, ci, co) => {
    const g = { n, h, w: h, ci, oh: h, ow: h, co, padT: 1, padL: 1 };
    expect(mosaicFor(g)).toBeDefined();
    const x = { values: randomArray(n * h * h * ci, 51), shape: [n, h, h, ci] };
    const filter = { values: randomArray(9 * ci * co, 52), shape: [3, 3, ci, co] };
    const bias = { values: randomArray(co, 53), shape: [co] };
    const dy = { values: randomArray(n * h * h * co, 54), shape: [n, h, h, co] };
    const common = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
    const runs: [string, Record<string, { values: Float32Array; shape: number[] }>, Record<string, unknown>][] = [
      ['FusedConv2D', { x, filter, bias }, { ...common, activation: 'linear' }],
      ['Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: [n, h, h, ci] }],
      ['Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [3, 3, ci, co] }],
    ];
    for (const [kernel, inputs, attrs] of runs) {
      const [ref] = await runOn('cpu', kernel, inputs, attrs);
      const before = nativeCalls.winograd;
      const [got] = await runOn('wasm', kernel, inputs, attrs);
      expect(nativeCalls.winograd, kernel).toBeGreaterThan(before);
      expect(got.shape).toEqual(ref.shape);
      expect(maxRelDiff(got.values, ref.values), kernel).toBeLessThan(1e-4);
    }
  });

  it('only where it saves tiles: not for whole tiles (12x12, 24x24), valid padding or one image', () => {
    const g = (n: number, h: number, pad: number) => ({ n, h, w: h, ci: 4, oh: pad ? h : h - 2, ow: pad ? h : h - 2, co: 4, padT: pad, padL: pad });
    expect(mosaicFor(g(32, 6, 1))).toMatchObject({ rows: 3, cols: 11 }); // 95 tiles instead of 128
    expect(mosaicFor(g(32, 12, 1))).toBeUndefined();
    expect(mosaicFor(g(32, 24, 1))).toBeUndefined();
    expect(mosaicFor(g(32, 6, 0))).toBeUndefined();
    expect(mosaicFor(g(1, 6, 1))).toBeUndefined();
  });
});

describe('Winograd falls back to XNNPACK', () => {
  it('for stride 2, 5x5 filters and channel counts that are not multiples of 4, with the same results as the cpu backend', async () => {
    const shapes: [number, number, number, number][] = [
      [3, 3, 4, 6], // co % 4 != 0
      [5, 5, 4, 4], // not 3x3
    ];
    for (const [kh, kw, ci, co] of shapes) {
      const x = { values: randomArray(2 * 8 * 8 * ci, 31), shape: [2, 8, 8, ci] };
      const filter = { values: randomArray(kh * kw * ci * co, 32), shape: [kh, kw, ci, co] };
      for (const s of [1, 2]) {
        const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
        const [ref] = await runOn('cpu', 'Conv2D', { x, filter }, attrs);
        const before = nativeCalls.winograd;
        const [got] = await runOn('wasm', 'Conv2D', { x, filter }, attrs);
        expect(nativeCalls.winograd).toBe(before);
        expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
      }
    }
  });
});

// [n, h, w, co, kh, kw, pad]: the first layer of a grey-image net and its neighbours.
const oneChannel: [number, number, number, number, number, number, 'same' | 'valid'][] = [
  [2, 12, 12, 32, 5, 5, 'same'],
  [1, 9, 7, 8, 5, 5, 'valid'],
  [2, 7, 10, 16, 3, 3, 'same'],
  [1, 6, 5, 8, 2, 4, 'same'],
  [1, 8, 8, 8, 7, 3, 'same'],
  [1, 8, 9, 8, 3, 7, 'same'],
];

describe.each(oneChannel)('one input channel n=%i h=%i w=%i co=%i k=%ix%i %s', (n, h, w, co, kh, kw, pad) => {
  const oh = pad === 'same' ? h : h - kh + 1;
  const ow = pad === 'same' ? w : w - kw + 1;
  const x = { values: randomArray(n * h * w, 41), shape: [n, h, w, 1] };
  const filter = { values: randomArray(kh * kw * co, 42), shape: [kh, kw, 1, co] };
  const bias = { values: randomArray(co, 43), shape: [co] };
  const dy = { values: randomArray(n * oh * ow * co, 44), shape: [n, oh, ow, co] };
  const common = { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
  async function compare(kernel: string, inputs: Record<string, { values: Float32Array; shape: number[] }>, attrs: Record<string, unknown>) {
    const [ref] = await runOn('cpu', kernel, inputs, attrs);
    const before = nativeCalls.oneChannel;
    const [got] = await runOn('wasm', kernel, inputs, attrs);
    expect(nativeCalls.oneChannel).toBeGreaterThan(before);
    expect(got.shape).toEqual(ref.shape);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
  }
  it('FusedConv2D with a bias matches the cpu backend', () => compare('FusedConv2D', { x, filter, bias }, { ...common, activation: 'linear' }));
  it('Conv2D matches the cpu backend', () => compare('Conv2D', { x, filter }, common));
  it('Conv2DBackpropFilter matches the cpu backend (kw <= 5)', async () => {
    const attrs = { ...common, filterShape: [kh, kw, 1, co] };
    if (kw <= 5) return compare('Conv2DBackpropFilter', { x, dy }, attrs);
    const [ref] = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const [got] = await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(maxRelDiff(got.values, ref.values)).toBeLessThan(1e-5);
  });
});

describe("native.c's two builds: relaxed SIMD (fused multiply-adds) and plain SIMD", () => {
  // [n, h, w, ci, co]: remainders of the 2-row and 16-column blocks, and a vgg-like 64-channel layer
  const shapes: [number, number, number, number, number][] = [
    [3, 7, 9, 12, 20],
    [2, 12, 12, 64, 64],
  ];
  const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };

  it("Node 20.16 and later run the relaxed build (on Node 20 through V8's flag, set at run time: process.getBuiltinModule came in 20.16); FER_NO_RELAXED_SIMD picks the plain one", () => {
    expect(relaxedSimdSupported()).toBe(true);
    expect(nativeBuild()).toBe(flags.relaxedSimd ? 'relaxed' : 'plain');
    expect(withFlags({ relaxedSimd: false }, () => nativeBuild())).toBe('plain');
  });

  it.each(shapes)('n=%i %ix%i %i->%i: both match the cpu backend, forward, input and filter gradients', async (n, h, w, ci, co) => {
    const x = { values: randomArray(n * h * w * ci, 61), shape: [n, h, w, ci] };
    const filter = { values: randomArray(9 * ci * co, 62), shape: [3, 3, ci, co] };
    const dy = { values: randomArray(n * h * w * co, 63), shape: [n, h, w, co] };
    const runs: [string, Record<string, { values: Float32Array; shape: number[] }>, Record<string, unknown>][] = [
      ['Conv2D', { x, filter }, attrs],
      ['Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: [n, h, w, ci] }],
      ['Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, ci, co] }],
    ];
    for (const [kernel, inputs, a] of runs) {
      const [ref] = await runOn('cpu', kernel, inputs, a);
      for (const relaxedSimd of [true, false]) {
        const before = nativeCalls.winograd;
        const [got] = await withFlags({ relaxedSimd }, () => runOn('wasm', kernel, inputs, a));
        expect(nativeCalls.winograd, `${kernel} relaxed ${relaxedSimd}`).toBeGreaterThan(before);
        // error relative to the outputs' scale: 64 channels sum 576 terms per output
        const scale = Math.max(...ref.values.map(Math.abs));
        expect(
          maxRelDiff(
            got.values.map((v) => v / scale),
            ref.values.map((v) => v / scale),
          ),
          `${kernel} relaxed ${relaxedSimd}`,
        ).toBeLessThan(1e-5);
      }
    }
  });
});

describe('native_wasm.ts', () => {
  it('was built from the native.c beside it (rebuild: node src/backend/native/native.build.mjs)', () => {
    const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'native.c'));
    expect(createHash('sha256').update(source).digest('hex')).toBe(NATIVE_SOURCE_SHA256);
  });
});
