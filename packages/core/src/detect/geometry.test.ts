import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { mulberry32 } from '../random.js';
import { cropFaces, greyPixels } from './crop.js';
import { faceModelDir, loadPhoto } from './detect.js';
import { cropFaceGrey, cropRegion, greyFromRgb, resizeArea, sampleRegion } from './geometry.js';

// The browser page crops faces with geometry.ts alone (no sharp): its grey and its 48x48 shrink, set beside
// Node's (sharp's greyscale and resize) on face-api's demo photo.

const DEMO = () => path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');
/** sample1.jpg's faces as SSD MobileNet finds them (detect.test.ts). */
const FACES = [
  { box: { x: 414, y: 355, width: 177, height: 240 }, score: 1 },
  { box: { x: 838, y: 421, width: 186, height: 228 }, score: 1 },
  { box: { x: 1476, y: 199, width: 203, height: 241 }, score: 1 },
];

describe('greyFromRgb', () => {
  it("matches sharp's greyscale within one grey level (random colours, RGB and RGBA)", async () => {
    const rand = mulberry32(7);
    const width = 64;
    const height = 64;
    const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rand() * 256));
    const { data } = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const grey = greyFromRgb(rgb, width, height, 3);
    let worst = 0;
    for (let i = 0; i < grey.length; i++) worst = Math.max(worst, Math.abs(grey[i] - data[i]));
    expect(worst).toBeLessThanOrEqual(1);
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 17], i * 4);
    expect(greyFromRgb(rgba, width, height, 4)).toEqual(grey);
  });
});

describe('resizeArea', () => {
  it('averages whole blocks exactly when the side is a multiple of the size', () => {
    const side = 96;
    const pixels = Uint8Array.from({ length: side * side }, (_, i) => ((i % side) + Math.floor(i / side)) % 256);
    const out = resizeArea(pixels, side);
    expect(out.length).toBe(PIXELS_PER_IMAGE);
    for (const [x, y] of [
      [0, 0],
      [5, 9],
      [47, 47],
    ]) {
      const mean = (pixels[2 * y * side + 2 * x] + pixels[2 * y * side + 2 * x + 1] + pixels[(2 * y + 1) * side + 2 * x] + pixels[(2 * y + 1) * side + 2 * x + 1]) / 4;
      expect(out[y * IMAGE_SIZE + x]).toBe(Math.round(mean));
    }
    expect(resizeArea(new Uint8Array(100 * 100).fill(200), 100)).toEqual(new Uint8Array(PIXELS_PER_IMAGE).fill(200));
  });

  it("the page's crop (greyFromRgb, cropFaceGrey) is within 2 grey levels on average of Node's cropFaces (sharp)", async () => {
    const photo = await loadPhoto(DEMO());
    const faces = FACES;
    const node = await cropFaces(photo, faces);
    const nodeGrey = await greyPixels(photo);
    const grey = greyFromRgb(photo.data, photo.width, photo.height, 3);
    let worstGrey = 0;
    for (let i = 0; i < grey.length; i += 97) worstGrey = Math.max(worstGrey, Math.abs(grey[i] - nodeGrey[i]));
    expect(worstGrey).toBeLessThanOrEqual(1);
    for (const [i, face] of faces.entries()) {
      const page = cropFaceGrey(grey, photo.width, photo.height, face);
      const { side } = sampleRegion(grey, photo.width, photo.height, cropRegion(face));
      expect(side).toBeGreaterThan(IMAGE_SIZE);
      let sum = 0;
      let worst = 0;
      for (let k = 0; k < PIXELS_PER_IMAGE; k++) {
        const d = Math.abs(page[k] - node[i * PIXELS_PER_IMAGE + k]);
        sum += d;
        worst = Math.max(worst, d);
      }
      console.log(`face ${i + 1} (${side} px -> 48): mean |page - sharp| ${(sum / PIXELS_PER_IMAGE).toFixed(2)} grey levels, worst ${worst}`);
      // measured: 1.05-1.20 on average, at most 11 (edges, where Lanczos rings and area averaging does not)
      expect(sum / PIXELS_PER_IMAGE).toBeLessThan(2);
      expect(worst).toBeLessThan(24);
    }
  });
});
