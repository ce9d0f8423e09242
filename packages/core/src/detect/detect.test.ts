import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select.js';
import { PIXELS_PER_IMAGE } from '../classes.js';
import { isFerError } from '../errors.js';
import { cropFaces, cropRegion, eyeAngle } from './crop.js';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { type FaceBox, type RawImage, blazeModelDir, boxIoU, detectFaces, faceModelDir, loadPhoto, searchRegions, ssdDetect } from './detect.js';

/** face-api's demo photo (1920x1280) and its three faces' boxes as SSD MobileNet finds them there. */
const DEMO = () => path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');
const DEMO_FACES: FaceBox[] = [
  { x: 414, y: 355, width: 177, height: 240 },
  { x: 838, y: 421, width: 186, height: 228 },
  { x: 1476, y: 199, width: 203, height: 241 },
];

let dir: string;
beforeAll(async () => {
  await selectBackend('wasm');
  dir = await mkdtemp(path.join(os.tmpdir(), 'fer-detect-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The demo faces, each cut out with a margin of 0.6 of its size, shrunk so that the face is `sizes[i]` pixels
 * (mean side) and pasted on a blank grey canvas at `at[i]`: the canvas and where each face's box now is.
 */
async function pastedFaces(width: number, height: number, sizes: number[], at: [number, number][]): Promise<{ image: RawImage; truth: FaceBox[] }> {
  const composites: sharp.OverlayOptions[] = [];
  const truth: FaceBox[] = [];
  for (const [i, b] of DEMO_FACES.entries()) {
    const side = (b.width + b.height) / 2;
    const m = Math.round(0.6 * side);
    const region = { left: b.x - m, top: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m };
    const k = sizes[i] / side;
    const w = Math.round(region.width * k);
    const h = Math.round(region.height * k);
    composites.push({ input: await sharp(DEMO()).extract(region).resize(w, h, { fit: 'fill' }).toBuffer(), left: at[i][0], top: at[i][1] });
    truth.push({ x: at[i][0] + m * (w / region.width), y: at[i][1] + m * (h / region.height), width: b.width * (w / region.width), height: b.height * (h / region.height) });
  }
  const { data } = await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(composites)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { image: { data: new Uint8Array(data), width, height, channels: 3 }, truth };
}

/** Faces of 128, 96 and 64 px on a 1280x960 canvas. */
const sizedFaces = () =>
  pastedFaces(
    1280,
    960,
    [128, 96, 64],
    [
      [80, 120],
      [620, 500],
      [1000, 160],
    ],
  );

/** Faces of 120, 100 and 90 px on a 960x720 canvas, off its vertical midline (a box left unmirrored lands where no face is). */
const offCentreFaces = () =>
  pastedFaces(
    960,
    720,
    [120, 100, 90],
    [
      [40, 60],
      [300, 420],
      [700, 120],
    ],
  );

describe('detectFaces', () => {
  it('finds faces of 64 to 128 px pasted on a larger canvas where they are (IoU >= 0.5), with landmarks', async () => {
    const { image, truth } = await sizedFaces();
    const faces = await detectFaces(image);
    expect(faces).toHaveLength(3);
    for (const t of truth) {
      const best = Math.max(...faces.map((f) => boxIoU(t, f.box)));
      expect(best, JSON.stringify(t)).toBeGreaterThanOrEqual(0.5);
    }
    for (const f of faces) {
      expect(f.score).toBeGreaterThan(0.5);
      expect(f.landmarks).toHaveLength(68);
    }
    // and each becomes a 48x48 grey crop
    expect(await cropFaces(image, faces)).toHaveLength(3 * PIXELS_PER_IMAGE);
  });

  it('with mirror, maps the mirrored pass back onto the photo: one box per face, where the face is', async () => {
    const { image, truth } = await offCentreFaces();
    const plain = await detectFaces(image, { landmarks: false, minFaceSize: 0 });
    const both = await detectFaces(image, { landmarks: false, minFaceSize: 0, mirror: true });
    expect(plain).toHaveLength(3);
    expect(both).toHaveLength(3);
    for (const t of truth) expect(Math.max(...both.map((f) => boxIoU(t, f.box))), JSON.stringify(t)).toBeGreaterThanOrEqual(0.5);
  });

  it('finds faces of about 190 px on a 1280x960 photo (tiles keep faces they hold whole, not only small ones)', async () => {
    const { image, truth } = await pastedFaces(
      1280,
      960,
      [190, 190, 190],
      [
        [20, 20],
        [440, 480],
        [860, 40],
      ],
    );
    const faces = await detectFaces(image, { landmarks: false });
    for (const t of truth) expect(Math.max(0, ...faces.map((f) => boxIoU(t, f.box))), JSON.stringify(t)).toBeGreaterThanOrEqual(0.5);
  });

  it('blaze: BlazeFace finds the pasted faces, with both eyes inside the box, the right eye on the left of the photo (mirrored pass too)', async () => {
    const { image, truth } = await offCentreFaces();
    for (const mirror of [false, true]) {
      const faces = await detectFaces(image, { detector: 'blaze', mirror });
      expect(faces).toHaveLength(3);
      for (const t of truth) {
        const f = faces.find((f) => boxIoU(t, f.box) >= 0.4);
        expect(f, `${JSON.stringify(t)} mirror ${mirror}`).toBeDefined();
        if (!f?.eyes) throw new Error('no eyes');
        expect(f.detector).toBe('blaze');
        const [right, left] = f.eyes;
        expect(right.x).toBeLessThan(left.x);
        for (const e of f.eyes) {
          expect(e.x).toBeGreaterThan(f.box.x);
          expect(e.x).toBeLessThan(f.box.x + f.box.width);
          expect(e.y).toBeGreaterThan(f.box.y);
          expect(e.y).toBeLessThan(f.box.y + f.box.height / 2 + f.box.height * 0.1);
        }
        expect(f.landmarks).toHaveLength(68);
      }
    }
  });

  it("ssd+blaze: where SSD finds every face, SSD's boxes and no more", async () => {
    const { image } = await sizedFaces();
    const ssd = await detectFaces(image, { landmarks: false });
    const both = await detectFaces(image, { detector: 'ssd+blaze', landmarks: false });
    expect(both.map((f) => f.box)).toEqual(ssd.map((f) => f.box));
    expect(both.map((f) => f.detector)).toEqual(['ssd', 'ssd', 'ssd']);
  });

  it("ssdDetect: face-api's SSD detections, boxes and scores, with tfjs's non-max suppression", async () => {
    await detectFaces({ data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 }, { landmarks: false }); // loads SSD's weights
    const api = createRequire(import.meta.url)('@vladmandic/face-api/dist/face-api.node-wasm.js');
    const { image } = await sizedFaces();
    // a canvas with three faces, at 0.3 and 0.05, and a wide crop of the demo photo (padding at the bottom)
    // at 0.02, where dozens of weak boxes overlap and the suppression decides which stay
    const cases: [RawImage, number][] = [
      [image, 0.3],
      [image, 0.05],
    ];
    const demo = await loadPhoto(DEMO());
    cases.push([{ ...demo, height: 700, data: demo.data.subarray(0, demo.width * 700 * 3) }, 0.02]);
    for (const [img, minScore] of cases) {
      const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
      try {
        const ours = await ssdDetect(t, minScore);
        const theirs: { score: number; box: FaceBox }[] = await api.detectAllFaces(t, new api.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 1000 }));
        expect(ours.length).toBe(theirs.length);
        if (minScore === 0.02) expect(ours.length).toBeGreaterThan(10);
        const sorted = (a: { score: number; box: FaceBox }[]) => [...a].sort((x, y) => y.score - x.score);
        for (const [i, o] of sorted(ours).entries()) {
          const f = sorted(theirs)[i];
          expect(o.score).toBeCloseTo(f.score, 5);
          for (const k of ['x', 'y', 'width', 'height'] as const) expect(o.box[k]).toBeCloseTo(f.box[k], 2);
        }
      } finally {
        t.dispose();
      }
    }
  });

  it('a photo that is one face cut close: SSD finds none, the retry (default) finds it, filling the photo', async () => {
    // each demo face cut to SSD's own box (no hair, no background), grey, 200x200: what a FER2013-style crop is
    for (const b of DEMO_FACES) {
      const buf = await sharp(DEMO()).extract({ left: b.x, top: b.y, width: b.width, height: b.height }).resize(200, 200, { fit: 'fill' }).grayscale().raw().toBuffer();
      const image: RawImage = { data: new Uint8Array(buf), width: 200, height: 200, channels: 1 };
      expect(await detectFaces(image, { landmarks: false, retry: false })).toEqual([]);
      const faces = await detectFaces(image);
      expect(faces, JSON.stringify(b)).toHaveLength(1);
      // the box lies in the photo (the margin's pixels are not the photo's) and covers most of it
      const f = faces[0].box;
      expect(f.x).toBeGreaterThanOrEqual(0);
      expect(f.y).toBeGreaterThanOrEqual(0);
      expect(f.x + f.width).toBeLessThanOrEqual(200);
      expect(f.y + f.height).toBeLessThanOrEqual(200);
      expect(boxIoU(f, { x: 0, y: 0, width: 200, height: 200 })).toBeGreaterThanOrEqual(0.5);
      expect(faces[0].landmarks).toHaveLength(68);
    }
  });

  it('a blank image holds no face', async () => {
    const image: RawImage = { data: new Uint8Array(640 * 480).fill(128), width: 640, height: 480, channels: 1 };
    expect(await detectFaces(image)).toEqual([]);
    expect(await detectFaces(image, { detector: 'ssd+blaze' })).toEqual([]);
  });

  it('missing weights are a FerError that says where it looked', async () => {
    const image: RawImage = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 };
    const e = await detectFaces(image, { modelDir: path.join(dir, 'no-weights') }).catch((e) => e);
    expect(isFerError(e)).toBe(true);
    expect(e.message).toMatch(/weights are missing: .*no-weights/);
    const b = await detectFaces(image, { detector: 'blaze', blazeDir: path.join(dir, 'no-blaze') }).catch((e) => e);
    expect(isFerError(b)).toBe(true);
    expect(b.message).toMatch(/BlazeFace's weights are missing: .*no-blaze.*blazeface\.json/);
    // a cut-short blazeface.bin: named, with its size against the manifest's
    const cut = path.join(dir, 'cut-blaze');
    await mkdir(cut);
    await copyFile(path.join(blazeModelDir(), 'blazeface.json'), path.join(cut, 'blazeface.json'));
    await writeFile(path.join(cut, 'blazeface.bin'), (await readFile(path.join(blazeModelDir(), 'blazeface.bin'))).subarray(0, 1000));
    const t = await detectFaces(image, { detector: 'blaze', blazeDir: cut }).catch((e) => e);
    expect(isFerError(t)).toBe(true);
    expect(t.message).toMatch(/cut-blaze: the weight files hold 1000 bytes, blazeface\.json describes \d+/);
  });

  it('searches tiles only when a small face would shrink too far in the whole photo', () => {
    expect(searchRegions(640, 480, 64)).toHaveLength(1);
    const regions = searchRegions(1920, 1280, 64);
    expect(regions[0]).toEqual({ x: 0, y: 0, width: 1920, height: 1280 });
    expect(regions.length).toBeGreaterThan(1);
    // the tiles cover the photo
    for (const [x, y] of [
      [0, 0],
      [1919, 1279],
      [960, 640],
    ])
      expect(regions.slice(1).some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)).toBe(true);
    expect(searchRegions(1920, 1280, 0)).toHaveLength(1);
  });
});

describe('loadPhoto', () => {
  it('a corrupt image file is a FerError naming it', async () => {
    const file = path.join(dir, 'corrupt.jpg');
    await writeFile(file, 'not a JPEG at all');
    const e = await loadPhoto(file).catch((e) => e);
    expect(isFerError(e)).toBe(true);
    expect(e.message).toContain(`${file} is not a readable image`);
    const missing = await loadPhoto(path.join(dir, 'nope.png')).catch((e) => e);
    expect(missing.message).toMatch(/nope\.png does not exist/);
  });
});

describe('cropping', () => {
  it('levels the eyes: the crop turns by the eye line and moves down along the face', () => {
    // eyes (landmarks 36-41 and 42-47) on a line 30 degrees below the horizontal
    const a = (30 * Math.PI) / 180;
    const landmarks = Array.from({ length: 68 }, (_, i) => (i >= 42 && i < 48 ? { x: 100 + 50 * Math.cos(a), y: 100 + 50 * Math.sin(a) } : { x: 100, y: 100 }));
    const face = { box: { x: 50, y: 50, width: 100, height: 100 }, score: 1, landmarks };
    expect(eyeAngle(face)).toBeCloseTo(a, 6);
    const r = cropRegion(face, { scale: 1, shiftY: 0.1 });
    expect(r.angle).toBeCloseTo(a, 6);
    expect(r.size).toBe(100);
    // 10 px down the face's own vertical: left and down in the photo
    expect(r.cx).toBeCloseTo(100 - 10 * Math.sin(a), 6);
    expect(r.cy).toBeCloseTo(100 + 10 * Math.cos(a), 6);
    expect(cropRegion(face, { align: false }).angle).toBe(0);
  });
});
