import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select.js';
import { NUM_CLASSES } from '../classes.js';
import { decodeFaceImage } from '../data/images.js';
import { decodePhoto, faceModelDir } from '../detect/detect.js';
import { facesInPhoto } from '../detect/faces.js';
import { isFerError } from '../errors.js';
import { buildModel } from '../models/index.js';
import { CROPPED_FACE_MAX_SIDE, predictPhotos } from './photos.js';
import { predictFaces } from './predict.js';

// predictPhotos, shared by `fer predict` and `fer serve`'s POST /predict: photos composed from face-api's demo
// photo (never FER2013 data), classified by a tiny untrained model (what it says does not matter here).

let model: ReturnType<typeof buildModel>;
/** 480x360 JPEG: two demo faces pasted on grey. */
let photo: Buffer;
/** 48x48 grey PNG of a face. */
let face48: Buffer;
/** 400x300 grey PNG, no face. */
let blank: Buffer;

beforeAll(async () => {
  await selectBackend('wasm');
  model = buildModel('tiny', { seed: 3 });
  const demo = path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');
  const boxes = [
    { x: 414, y: 355, width: 177, height: 240 },
    { x: 1476, y: 199, width: 203, height: 241 },
  ];
  const composites: sharp.OverlayOptions[] = [];
  for (const [i, b] of boxes.entries()) {
    const m = Math.round(0.5 * b.width);
    composites.push({
      input: await sharp(demo)
        .extract({ left: b.x - m, top: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m })
        .resize({ width: 200 })
        .toBuffer(),
      left: 20 + 240 * i,
      top: 40,
    });
  }
  photo = await sharp({ create: { width: 480, height: 360, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(composites)
    .jpeg({ quality: 90 })
    .toBuffer();
  face48 = await sharp(demo).extract({ left: 414, top: 355, width: 177, height: 177 }).greyscale().resize(48, 48).png().toBuffer();
  blank = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toBuffer();
});

const probabilitiesOf = (probs: Float32Array, i: number) => Array.from(probs.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES));
const sorted = (p: Record<string, number>) => Object.values(p);

describe('predictPhotos', () => {
  it("finds and classifies a photo's faces: rows with boxes to 0.1 px, scores, the models' probabilities", async () => {
    const { images, rows } = await predictPhotos(model, [{ name: 'a.jpg', bytes: photo }]);
    const { faces, pixels } = await facesInPhoto(await decodePhoto(photo, 'a.jpg'));
    expect(faces).toHaveLength(2);
    expect(images[0]).toMatchObject({ name: 'a.jpg', width: 480, height: 360, noFace: false });
    expect(images[0].faces).toEqual(faces);
    const probs = await predictFaces(model, pixels);
    expect(rows).toHaveLength(2);
    for (const [k, row] of rows.entries()) {
      expect(row).toMatchObject({ file: 'a.jpg', face: k + 1 });
      const b = faces[k].box;
      expect(row.box).toEqual({ x: Math.round(b.x * 10) / 10, y: Math.round(b.y * 10) / 10, width: Math.round(b.width * 10) / 10, height: Math.round(b.height * 10) / 10 });
      expect(row.score).toBe(Math.round(faces[k].score * 10000) / 10000);
      // most likely first, as fer predict --json lists them
      expect(sorted(row.probabilities)).toEqual([...probabilitiesOf(probs, k)].sort((x, y) => y - x));
      expect(Object.keys(row.probabilities)[0]).toBe(row.emotion);
    }
  });

  it(`takes an image of ${CROPPED_FACE_MAX_SIDE} px or less as one cropped face; detect false takes any image so, detect true searches any`, async () => {
    const small = await predictPhotos(model, [{ name: 'f.png', bytes: face48 }]);
    expect(small.rows).toMatchObject([{ file: 'f.png', face: 1, box: null, score: null }]);
    expect(small.images[0].faces).toBeUndefined();
    const probs = await predictFaces(model, await decodeFaceImage(face48, 'f.png'));
    expect(sorted(small.rows[0].probabilities)).toEqual(probabilitiesOf(probs, 0).sort((x, y) => y - x));
    const whole = await predictPhotos(model, [{ name: 'a.jpg', bytes: photo }], { detect: false });
    expect(whole.rows).toMatchObject([{ face: 1, box: null, score: null }]);
    // searched, the 48x48 face fills the picture: SSD alone finds none; the retry (default), in a grey margin, finds it
    const ssdOnly = await predictPhotos(model, [{ name: 'f.png', bytes: face48 }], { detect: true, retry: false });
    expect(ssdOnly.images[0]).toMatchObject({ noFace: true, width: 48, height: 48 });
    const searched = await predictPhotos(model, [{ name: 'f.png', bytes: face48 }], { detect: true });
    expect(searched.images[0]).toMatchObject({ noFace: false, width: 48, height: 48 });
    expect(searched.rows).toHaveLength(1);
    expect(searched.rows[0].box).not.toBeNull();
  });

  it('several images in one call: the same rows as one at a time, an image with no face flagged; decoded pixels work too', async () => {
    const both = await predictPhotos(model, [
      { name: 'a.jpg', bytes: photo },
      { name: 'blank.png', bytes: blank },
      { name: 'f.png', bytes: face48 },
    ]);
    const photoRows = (await predictPhotos(model, [{ name: 'a.jpg', bytes: photo }])).rows;
    const alone = [...photoRows, ...(await predictPhotos(model, [{ name: 'f.png', bytes: face48 }])).rows];
    expect(both.rows.map((r) => [r.file, r.face, r.box, r.label])).toEqual(alone.map((r) => [r.file, r.face, r.box, r.label]));
    for (const [i, r] of both.rows.entries()) for (const [e, p] of Object.entries(r.probabilities)) expect(p).toBeCloseTo(alone[i].probabilities[e], 5);
    expect(both.images.map((im) => im.noFace)).toEqual([false, true, false]);
    expect(both.images[1]).toMatchObject({ width: 400, height: 300, predictions: [], rows: [] });
    const raw = await predictPhotos(model, [{ name: 'a.jpg', image: await decodePhoto(photo, 'a.jpg') }]);
    expect(raw.rows).toEqual(photoRows);
  });

  it('an unreadable image is a FerError naming it: a missing file, bytes that are no image, a JPEG cut short', async () => {
    const missing = await predictPhotos(model, [{ name: 'x', file: '/nonexistent/face.jpg' }]).catch((e) => e);
    expect(isFerError(missing)).toBe(true);
    expect(missing.message).toBe('/nonexistent/face.jpg does not exist');
    const text = await predictPhotos(model, [{ name: 'x', bytes: new TextEncoder().encode('not an image'), source: 'the upload' }]).catch((e) => e);
    expect(text.message).toMatch(/^the upload is not a readable image/);
    const cut = await predictPhotos(model, [{ name: 'cut.jpg', bytes: photo.subarray(0, photo.length >> 1) }]).catch((e) => e);
    expect(isFerError(cut)).toBe(true);
    expect(cut.message).toMatch(/^cut\.jpg is not a readable image/);
  });
});
