import type { TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '@fer/core';
import sharp from 'sharp';

/** One font for every picture, so they look alike on every machine that has DejaVu (Debian's default). */
export const FONT_FAMILY = 'DejaVu Sans';

export const baseConfig = {
  font: FONT_FAMILY,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/**
 * A Vega-Lite spec drawn to SVG by Vega itself, headless (no canvas, no browser). Vega and Vega-Lite
 * are loaded on first use: their module graph has a top-level await (vega-canvas), which require() of
 * our CJS build cannot load.
 */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const { compile } = await import('vega-lite');
  const vgSpec = compile({ ...spec, config: { ...baseConfig, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const vega = await import('vega');
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG to PNG with resvg, at `scale` times the SVG's size (2 gives crisp text on high-DPI screens). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY },
    background: 'white',
  });
  return r.render().asPng();
}

/**
 * A PNG re-encoded with a 256-colour palette: charts are flat colours and grids are grey faces plus
 * one colour scheme, so this loses nothing visible and makes files 3-5x smaller for the HTML report.
 */
export async function compactPng(png: Uint8Array): Promise<Buffer> {
  return sharp(png).png({ palette: true, colours: 256, dither: 0.5, compressionLevel: 9, effort: 8 }).toBuffer();
}

/** Writes `<base>.svg` and `<base>.png`; returns their paths. Atomic, as `fer train` rewrites them while a browser may be showing them. */
export async function writeSvgAndPng(base: string, svg: string, scale = 2): Promise<{ svg: string; png: string }> {
  await writeFileAtomic(`${base}.svg`, svg);
  await writeFileAtomic(`${base}.png`, await compactPng(svgToPng(svg, scale)));
  return { svg: `${base}.svg`, png: `${base}.png` };
}

export async function writePng(file: string, png: Uint8Array): Promise<string> {
  await writeFileAtomic(file, await compactPng(png));
  return file;
}

export async function writeJsonFile(file: string, value: unknown): Promise<string> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
