import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FaceBox } from '@fer/core';
import { escapeXml } from './render.js';

export interface FaceLabel {
  box: FaceBox;
  /** e.g. "happy 87%". */
  text: string;
}

/** A colour per expression, so that the same expression reads the same across faces. */
const COLOURS: Record<string, string> = {
  angry: '#e41a1c',
  disgust: '#4daf4a',
  fear: '#984ea3',
  happy: '#ffb000',
  sad: '#377eb8',
  surprise: '#ff7f00',
  neutral: '#cccccc',
};

/**
 * `file` (turned upright by its EXIF orientation, as fer's detector saw it) with a box and a label ("happy 87%")
 * on each face, written as PNG to `out`: an SVG overlay composited by sharp.
 */
export async function writeAnnotatedPhoto(file: string, width: number, height: number, faces: readonly FaceLabel[], out: string): Promise<void> {
  const line = Math.max(2, Math.round(Math.min(width, height) / 300));
  const parts: string[] = [];
  for (const { box, text } of faces) {
    const colour = COLOURS[text.split(' ')[0]] ?? '#00e0ff';
    const font = Math.max(12, Math.min(48, Math.round(box.width * 0.16)));
    const labelW = Math.round(text.length * font * 0.68 + font * 0.6);
    const labelH = Math.round(font * 1.35);
    // the label above the box, or inside its top when the box touches the photo's top
    const ly = box.y - labelH >= 0 ? box.y - labelH : box.y;
    const lx = Math.min(Math.max(0, box.x - line / 2), Math.max(0, width - labelW));
    parts.push(
      `<rect x="${box.x.toFixed(1)}" y="${box.y.toFixed(1)}" width="${box.width.toFixed(1)}" height="${box.height.toFixed(1)}" fill="none" stroke="${colour}" stroke-width="${line}"/>`,
      `<rect x="${lx.toFixed(1)}" y="${ly.toFixed(1)}" width="${labelW}" height="${labelH}" fill="${colour}"/>`,
      `<text x="${(lx + font * 0.3).toFixed(1)}" y="${(ly + font * 1.02).toFixed(1)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" font-weight="bold" fill="#000">${escapeXml(text)}</text>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
  await mkdir(path.dirname(out), { recursive: true });
  await sharp(file)
    .rotate()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(out);
}
