import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select.js';
import { IMAGE_SIZE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import { FerError } from '../errors.js';
import { buildModel } from '../models/index.js';
import { mulberry32 } from '../random.js';
import { checkEnsemble, runCropPad } from './ensemble.js';
import { faceView, flipHorizontal, predictFaces, shiftFaces, ttaViews } from './predict.js';

const S = IMAGE_SIZE;

/** `count` faces of seeded random pixels, with a left-right gradient so that mirroring changes them. */
function randomFaces(count: number, seed: number): Uint8Array {
  const u = mulberry32(seed);
  return Uint8Array.from({ length: count * PIXELS_PER_IMAGE }, (_, i) => Math.min(255, Math.floor(u() * 128 + ((i % S) / S) * 127)));
}

const mean = (...arrays: Float32Array[]) => Float32Array.from(arrays[0], (_, i) => arrays.reduce((s, a) => s + a[i], 0) / arrays.length);

function expectClose(actual: Float32Array, expected: Float32Array) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(actual[i], `index ${i}`).toBeCloseTo(expected[i], 6);
}

/** The reference pad-and-crop: pad by `pad` with edge replication, crop 48x48 at (ox, oy), mirror if asked. */
function padCrop(face: Uint8Array, pad: number, ox: number, oy: number, mirror: boolean): Uint8Array {
  const P = S + 2 * pad;
  const padded = new Uint8Array(P * P);
  for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) padded[y * P + x] = face[Math.min(S - 1, Math.max(0, y - pad)) * S + Math.min(S - 1, Math.max(0, x - pad))];
  const out = new Uint8Array(PIXELS_PER_IMAGE);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[y * S + (mirror ? S - 1 - x : x)] = padded[(oy + y) * P + ox + x];
  return out;
}

function smallModel(inputShape: number[], classes: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape, filters: 2, kernelSize: 3, padding: 'same' }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: classes }));
  return m;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('test-time views', () => {
  it('shifts with edge replication, and mirrors', () => {
    const face = randomFaces(1, 7);
    const right = shiftFaces(face, 3, 0);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < 3; x++) expect(right[y * S + x]).toBe(face[y * S]); // the left edge repeated
      for (let x = 3; x < S; x++) expect(right[y * S + x]).toBe(face[y * S + x - 3]);
    }
    const up = shiftFaces(face, 0, -2);
    expect(up.subarray(0, 46 * S)).toEqual(face.subarray(2 * S));
    expect(up.subarray(46 * S, 47 * S)).toEqual(face.subarray(47 * S));
    expect(up.subarray(47 * S)).toEqual(face.subarray(47 * S));
    expect(shiftFaces(face, 0, 0)).toEqual(face);
  });

  it('are the face alone, face + mirror with tta, and the 10 crops of the padded face with tta and cropPad', () => {
    expect(ttaViews()).toEqual([{ dx: 0, dy: 0, mirror: false }]);
    expect(ttaViews({ cropPad: 4 })).toEqual([{ dx: 0, dy: 0, mirror: false }]);
    expect(ttaViews({ tta: true })).toEqual([
      { dx: 0, dy: 0, mirror: false },
      { dx: 0, dy: 0, mirror: true },
    ]);
    const pad = 4;
    const views = ttaViews({ tta: true, cropPad: pad });
    expect(views).toHaveLength(10);
    // exactly the centre and the four corner crops of the padded face, each as it is and mirrored
    const crops = [
      [pad, pad],
      [0, 0],
      [2 * pad, 0],
      [0, 2 * pad],
      [2 * pad, 2 * pad],
    ];
    const faces = randomFaces(2, 11);
    const got = views.map((v) => faceView(faces, v));
    const expected = crops.flatMap(([ox, oy]) =>
      [false, true].map((mirror) => {
        const both = new Uint8Array(2 * PIXELS_PER_IMAGE);
        for (let f = 0; f < 2; f++) both.set(padCrop(faces.subarray(f * PIXELS_PER_IMAGE, (f + 1) * PIXELS_PER_IMAGE), pad, ox, oy, mirror), f * PIXELS_PER_IMAGE);
        return both;
      }),
    );
    for (const e of expected)
      expect(
        got.filter((g) => Buffer.compare(g, e) === 0),
        'each expected crop once',
      ).toHaveLength(1);
    // the buffers passed in are used, and reused without harm
    const out = new Uint8Array(2 * PIXELS_PER_IMAGE);
    const scratch = new Uint8Array(2 * PIXELS_PER_IMAGE);
    for (const [i, v] of views.entries()) expect(faceView(faces, v, out, scratch)).toEqual(got[i]);
    expect(faceView(faces, { dx: 0, dy: 0, mirror: true })).toEqual(flipHorizontal(faces));
  });

  it('reject a crop padding that is not a small whole number', () => {
    expect(() => ttaViews({ tta: true, cropPad: 2.5 })).toThrow(FerError);
    expect(() => ttaViews({ tta: true, cropPad: -1 })).toThrow(/crop padding/);
    expect(() => ttaViews({ tta: true, cropPad: 40 })).toThrow(/crop padding/);
  });

  it("read a run's crop padding from its config", () => {
    const config = (augment?: { crop?: number }) => ({ config: { augment } }) as unknown as Parameters<typeof runCropPad>[0];
    expect(runCropPad(undefined)).toBe(0);
    expect(runCropPad(config(undefined))).toBe(0);
    expect(runCropPad(config({ crop: 0 }))).toBe(0);
    expect(runCropPad(config({ crop: 4 }))).toBe(4);
  });
});

describe('predictFaces with TTA and ensembles', () => {
  const a = buildModel('tiny', { seed: 1 });
  const b = buildModel('tiny', { seed: 9 });
  const faces = randomFaces(5, 3);

  it('flip TTA is the mean of the face and the mirrored face', async () => {
    const tta = await predictFaces(a, faces, { tta: true });
    expectClose(tta, mean(await predictFaces(a, faces), await predictFaces(a, flipHorizontal(faces))));
    // in batches smaller than the set: the same
    expectClose(await predictFaces(a, faces, { tta: true, batchSize: 2 }), tta);
  });

  it('10-crop TTA is the mean over the 10 views', async () => {
    const views = ttaViews({ tta: true, cropPad: 3 });
    const each = await Promise.all(views.map((v) => predictFaces(a, faceView(faces, v))));
    const got = await predictFaces(a, faces, { tta: true, cropPad: 3, batchSize: 3 });
    expectClose(got, mean(...each));
    expect(got.subarray(0, NUM_CLASSES).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
  });

  it('averaging two models is the mean of their separate predictions, each with its own crop padding', async () => {
    const pa = await predictFaces(a, faces);
    const pb = await predictFaces(b, faces);
    expect(Math.max(...pa.map((p, i) => Math.abs(p - pb[i])))).toBeGreaterThan(1e-3); // the models differ
    expectClose(await predictFaces([a, b], faces), mean(pa, pb));
    expectClose(await predictFaces([a], faces), pa);
    const mixed = await predictFaces([a, b], faces, { tta: true, cropPad: [0, 2], batchSize: 4 });
    expectClose(mixed, mean(await predictFaces(a, faces, { tta: true }), await predictFaces(b, faces, { tta: true, cropPad: 2 })));
    await expect(predictFaces([a, b], faces, { cropPad: [1] })).rejects.toThrow(/1 crop paddings for 2 models/);
  });
});

describe('checkEnsemble', () => {
  const a = buildModel('tiny', { seed: 1 });
  it('accepts models of the same input and classes', () => {
    expect(() =>
      checkEnsemble([
        { name: 'runs/a', model: a },
        { name: 'runs/b', model: buildModel('tiny', { seed: 2 }) },
      ]),
    ).not.toThrow();
  });
  it('rejects a model with another input shape, naming both', () => {
    const rgb = smallModel([32, 32, 3], NUM_CLASSES);
    let error: unknown;
    try {
      checkEnsemble([
        { name: 'runs/a', model: a },
        { name: 'runs/rgb', model: rgb },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FerError);
    expect((error as FerError).message).toMatch(/runs\/a.*runs\/rgb/);
    expect((error as FerError).message).toContain('input');
    expect((error as FerError).message).toContain('[48, 48, 1]');
    expect((error as FerError).message).toContain('[32, 32, 3]');
    expect((error as FerError).hint).toBeTruthy();
  });
  it('rejects a model with another number of classes, naming both', () => {
    const five = smallModel([48, 48, 1], 5);
    expect(() =>
      checkEnsemble([
        { name: 'runs/a', model: a },
        { name: 'runs/five', model: five },
      ]),
    ).toThrow(/runs\/a.*runs\/five.*classes.*7.*5/);
  });
  it('guards predictFaces too', async () => {
    await expect(predictFaces([a, smallModel([48, 48, 1], 5)], randomFaces(1, 1))).rejects.toThrow(/model 1 and model 2/);
  });
});
