import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type FaceBox, type RawImage, faceModelDir } from '@fer/core';
import sharp from 'sharp';

// Pictures for the page's tests and measurements, made from face-api's demo photo (never FER2013 data).

/** face-api's demo photo (1920x1280) and two of its faces as SSD MobileNet finds them there. */
export const DEMO = () => path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');
export const DEMO_FACES: FaceBox[] = [
  { x: 414, y: 355, width: 177, height: 240 },
  { x: 1476, y: 199, width: 203, height: 241 },
];

/** 640x480: the first `faces` (1 or 2) of the demo faces, cut out with a margin and shrunk to about 150 px, on grey. */
export async function composePhoto(file: string, faces = 2): Promise<RawImage> {
  const at: [number, number][] = [
    [40, 90],
    [350, 120],
  ];
  const composites: sharp.OverlayOptions[] = [];
  for (const [i, b] of DEMO_FACES.slice(0, faces).entries()) {
    const side = (b.width + b.height) / 2;
    const m = Math.round(0.6 * side);
    const region = { left: b.x - m, top: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m };
    const k = 150 / side;
    composites.push({
      input: await sharp(DEMO())
        .extract(region)
        .resize(Math.round(region.width * k), Math.round(region.height * k))
        .toBuffer(),
      left: at[i][0],
      top: at[i][1],
    });
  }
  const img = sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 128, b: 136 } } }).composite(composites);
  await writeFile(file, await img.clone().png().toBuffer());
  const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: 640, height: 480, channels: 3 };
}

/** A YUV4MPEG2 clip (4:2:0, BT.601 studio range, as Chromium's fake camera reads it) of `frames` copies of an RGB image. */
export function y4m(image: RawImage, frames: number): Buffer {
  const { width: w, height: h, data } = image;
  const y = Buffer.alloc(w * h);
  const u = Buffer.alloc((w / 2) * (h / 2));
  const v = Buffer.alloc((w / 2) * (h / 2));
  for (let j = 0; j < h; j++)
    for (let i = 0; i < w; i++) {
      const s = (j * w + i) * 3;
      y[j * w + i] = Math.round(16 + (65.481 * data[s] + 128.553 * data[s + 1] + 24.966 * data[s + 2]) / 255);
    }
  for (let j = 0; j < h / 2; j++)
    for (let i = 0; i < w / 2; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const s = ((2 * j + dy) * w + 2 * i + dx) * 3;
        r += data[s] / 4;
        g += data[s + 1] / 4;
        b += data[s + 2] / 4;
      }
      u[j * (w / 2) + i] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[j * (w / 2) + i] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F15:1 Ip A1:1 C420jpeg\n`), ...Array.from({ length: frames }, () => frame)]);
}
