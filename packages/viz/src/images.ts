/// <reference path="./vega-scale.d.ts" />
import sharp from 'sharp';
// vega-scale alone: the whole of vega pulls in vega-canvas, whose top-level await breaks require() of our CJS build
import { scheme } from 'vega-scale';
import { escapeXml, FONT_FAMILY, svgToPng } from './render.js';

/** 256 RGB entries of a Vega colour scheme (inferno by default: dark is none, bright is most). */
export function colormap(name = 'inferno'): Uint8Array {
  const interpolate = scheme(name) as ((t: number) => string) | undefined;
  if (typeof interpolate !== 'function') throw new Error(`vega has no continuous colour scheme "${name}"`);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(interpolate(i / 255)) ?? /#(..)(..)(..)/.exec(interpolate(i / 255));
    if (!m) throw new Error(`cannot read colour ${interpolate(i / 255)}`);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = m[0].startsWith('#') ? parseInt(m[c + 1], 16) : Number(m[c + 1]);
  }
  return lut;
}

/**
 * A map scaled to 0..1 for display: divided by its 99th percentile (so one hot pixel does not make the
 * rest black, as tf-keras-vis and Captum's visualisers also clip), clipped at 1.
 */
export function normalizeMap(map: ArrayLike<number>, percentile = 0.99): Float32Array {
  const sorted = Float32Array.from(map, Math.abs).sort();
  const top = sorted[Math.min(sorted.length - 1, Math.floor(percentile * sorted.length))] || sorted[sorted.length - 1] || 1;
  return Float32Array.from(map, (v) => Math.min(1, Math.abs(v) / top));
}

/** Min-max scaled to 0..1 (for images whose absolute level means nothing, like filter patterns). */
export function minMax(values: ArrayLike<number>): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const span = hi - lo || 1;
  return Float32Array.from(values, (v) => (v - lo) / span);
}

export type Resample = 'nearest' | 'smooth';

async function rasterPng(raw: Uint8Array, side: number, channels: 1 | 3, size: number, resample: Resample): Promise<Buffer> {
  return sharp(Buffer.from(raw.buffer, raw.byteOffset, raw.length), { raw: { width: side, height: side, channels } })
    .resize(size, size, { kernel: resample === 'nearest' ? 'nearest' : 'cubic' })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

const sideOf = (n: number) => {
  const s = Math.round(Math.sqrt(n));
  if (s * s !== n) throw new Error(`${n} values are not a square image`);
  return s;
};

/** A grey image (values 0..1) as a PNG of `size` x `size`. */
export function greyPng(values: ArrayLike<number>, size: number, resample: Resample = 'smooth'): Promise<Buffer> {
  const raw = Uint8Array.from(values, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
  return rasterPng(raw, sideOf(values.length), 1, size, resample);
}

/** A 0..1 map in a colour scheme as a PNG. */
export function heatPng(values: ArrayLike<number>, size: number, resample: Resample = 'smooth', lut = colormap()): Promise<Buffer> {
  const raw = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const k = Math.round(255 * Math.min(1, Math.max(0, values[i])));
    raw.set(lut.subarray(k * 3, k * 3 + 3), i * 3);
  }
  return rasterPng(raw, sideOf(values.length), 3, size, resample);
}

/** Bilinear upsampling of a square map to 48x48 (pixel centres aligned), to lay a coarse map over a face. */
export function upsample(map: ArrayLike<number>, to = 48): Float32Array {
  const n = sideOf(map.length);
  const out = new Float32Array(to * to);
  for (let y = 0; y < to; y++) {
    const fy = Math.min(n - 1, Math.max(0, ((y + 0.5) * n) / to - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(n - 1, y0 + 1);
    for (let x = 0; x < to; x++) {
      const fx = Math.min(n - 1, Math.max(0, ((x + 0.5) * n) / to - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(n - 1, x0 + 1);
      const a = map[y0 * n + x0] + (map[y0 * n + x1] - map[y0 * n + x0]) * (fx - x0);
      const b = map[y1 * n + x0] + (map[y1 * n + x1] - map[y1 * n + x0]) * (fx - x0);
      out[y * to + x] = a + (b - a) * (fy - y0);
    }
  }
  return out;
}

/** The face in grey with the map laid over it: colour where the map is strong, the face where it is weak. */
export function overlayPng(face: ArrayLike<number>, map: ArrayLike<number>, size: number, lut = colormap()): Promise<Buffer> {
  const raw = new Uint8Array(face.length * 3);
  for (let i = 0; i < face.length; i++) {
    const m = Math.min(1, Math.max(0, map[i]));
    const k = Math.round(255 * m);
    // the weakest 15% leave the face untouched, so a faint map does not veil it
    const a = 0.85 * Math.max(0, (m - 0.15) / 0.85);
    const g = 255 * face[i];
    for (let c = 0; c < 3; c++) raw[i * 3 + c] = Math.round((1 - a) * g + a * lut[k * 3 + c]);
  }
  return rasterPng(raw, sideOf(face.length), 3, size, 'smooth');
}

export interface GridOptions {
  title: string;
  subtitle?: string;
  columnLabels?: string[];
  rowLabels?: string[];
  /** cells[row][col]: a PNG of cellSize x cellSize, or null for an empty cell. */
  cells: (Buffer | null)[][];
  cellSize: number;
  /** A caption under each cell, cellCaptions[row][col]. */
  cellCaptions?: (string | undefined)[][];
  /** Lines of notes under the grid. */
  footer?: string[];
  gap?: number;
}

/** A labelled grid of raster images, as SVG (images embedded, text as text) and PNG. */
export function imageGrid(o: GridOptions): { svg: string; png: Buffer } {
  const gap = o.gap ?? 6;
  const rowLabelWidth = o.rowLabels?.length ? 14 + 7.2 * Math.max(...o.rowLabels.map((l) => l.length)) : 0;
  const titleHeight = o.subtitle ? 50 : 32;
  const colLabelHeight = o.columnLabels?.length ? 20 : 0;
  const cols = Math.max(...o.cells.map((r) => r.length));
  const top = 10 + titleHeight + colLabelHeight;
  const footerLines = o.footer ?? [];
  // DejaVu Sans averages about 0.6 em per character: wide enough for the title, subtitle and notes too
  const textWidth = Math.max(o.title.length * 10, (o.subtitle?.length ?? 0) * 7.2, ...footerLines.map((l) => l.length * 6.6));
  const width = Math.ceil(Math.max(10 + rowLabelWidth + cols * (o.cellSize + gap) + 4, 20 + textWidth));
  const captionHeight = o.cellCaptions ? 16 : 0;
  const rowHeight = o.cellSize + gap + captionHeight;
  const height = Math.ceil(top + o.cells.length * rowHeight + 16 * footerLines.length + 10);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="10" y="28" font-size="16" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.subtitle) parts.push(`<text x="10" y="48" font-size="12" fill="#444">${escapeXml(o.subtitle)}</text>`);
  const x0 = 10 + rowLabelWidth;
  for (const [c, l] of (o.columnLabels ?? []).entries())
    parts.push(`<text x="${x0 + c * (o.cellSize + gap) + o.cellSize / 2}" y="${top - 6}" font-size="12" text-anchor="middle">${escapeXml(l)}</text>`);
  o.cells.forEach((row, r) => {
    const y = top + r * rowHeight;
    if (o.rowLabels?.[r]) parts.push(`<text x="${x0 - 8}" y="${y + o.cellSize / 2 + 4}" font-size="12" text-anchor="end">${escapeXml(o.rowLabels[r])}</text>`);
    row.forEach((png, c) => {
      if (!png) return;
      parts.push(`<image x="${x0 + c * (o.cellSize + gap)}" y="${y}" width="${o.cellSize}" height="${o.cellSize}" xlink:href="data:image/png;base64,${png.toString('base64')}"/>`);
      const caption = o.cellCaptions?.[r]?.[c];
      if (caption)
        parts.push(
          `<text x="${x0 + c * (o.cellSize + gap) + o.cellSize / 2}" y="${y + o.cellSize + 13}" font-size="11" text-anchor="middle" fill="#333">${escapeXml(caption)}</text>`,
        );
    });
  });
  for (const [i, l] of footerLines.entries()) parts.push(`<text x="10" y="${top + o.cells.length * rowHeight + 12 + 16 * i}" font-size="11" fill="#444">${escapeXml(l)}</text>`);
  parts.push('</svg>');
  const svg = parts.join('\n');
  return { svg, png: svgToPng(svg, 1) };
}
