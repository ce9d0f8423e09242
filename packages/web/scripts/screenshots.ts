// pnpm --filter @fer/web screenshots --run DIR: the docs' pictures of the page (docs/images/web-*.png), taken in
// Debian's headless Chromium with a fake camera playing part of face-api's demo photo.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { startServer } from '../src/node/index.js';
import { DEMO, y4m } from '../src/test-fixtures.js';

const { values } = parseArgs({ options: { run: { type: 'string', multiple: true }, out: { type: 'string' } } });
if (!values.run?.length) throw new Error('give --run DIR (a run directory with a model/)');
const cwd = process.env.INIT_CWD ?? process.cwd();
const runDirs = values.run.map((r) => path.resolve(cwd, r));
// the repository's docs/images (the script lives in packages/web/scripts), wherever it was started from
const outDir = values.out ? path.resolve(cwd, values.out) : path.resolve(import.meta.dirname, '../../../docs/images');

const root = await mkdtemp(path.join(os.tmpdir(), 'fer-web-shots-'));
try {
  // the two left faces of the demo photo, 720x480, as the webcam's picture
  const { data } = await sharp(DEMO()).extract({ left: 280, top: 150, width: 1050, height: 700 }).resize(720, 480).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const clip = path.join(root, 'camera.y4m');
  await writeFile(clip, y4m({ data: new Uint8Array(data), width: 720, height: 480, channels: 3 }, 2));
  const server = await startServer({ runDirs, port: 0, predict: false });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    type W = { fer: { ready: boolean; frames: number; result?: { source: string; faces: unknown[]; saliencyMaps: number } } };
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as W).fer.ready, null, { timeout: 60_000 });
    await page.click('#camera');
    await page.waitForFunction(() => ((window as unknown as W).fer.result?.faces.length ?? 0) >= 2 && (window as unknown as W).fer.frames > 10, null, { timeout: 60_000 });
    await page.screenshot({ path: path.join(outDir, 'web-camera.png') });
    await page.click('#camera');
    await page.check('#saliency');
    await page.setInputFiles('#file', DEMO());
    await page.waitForFunction(() => (window as unknown as W).fer.result?.source === 'photo' && (window as unknown as W).fer.result?.saliencyMaps === 3, null, { timeout: 60_000 });
    await page.screenshot({ path: path.join(outDir, 'web-saliency.png') });
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
    await page.waitForSelector('#message:not([hidden])');
    await page.screenshot({ path: path.join(outDir, 'web-error.png'), clip: { x: 0, y: 0, width: 1100, height: 420 } });
    console.log(`wrote web-camera.png, web-saliency.png, web-error.png to ${outDir}`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
