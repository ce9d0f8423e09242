// pnpm --filter @fer/web measure [--run DIR] [--seconds N] [--backend wasm,webgl] [--video-size 160,224,...]
//
// The page in headless Chromium (Debian's, /usr/bin/chromium) with a fake camera playing one face (face-api's
// demo photo): frames per second (detection + landmarks + crop + classification), the time from page load to
// the first prediction, and the page's weight (every byte it transferred, by part). Without --run it measures
// an untrained vgg (the strong recipe's model: the same size and compute as a trained one).
// measure.sh runs it with `fer train` processes paused (SIGSTOP, resumed on exit) so that they do not compete.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel, saveModel, selectBackend } from '@fer/core';
import { chromium } from 'playwright-core';
import { startServer } from '../src/node/index.js';
import { composePhoto, y4m } from '../src/test-fixtures.js';

const { values } = parseArgs({
  options: { run: { type: 'string' }, seconds: { type: 'string' }, backend: { type: 'string' }, 'video-size': { type: 'string' }, model: { type: 'string' } },
});
const seconds = Number(values.seconds ?? 8);
const backends = (values.backend ?? 'wasm,webgl').split(',');
// 'auto': no ?video-size, so the page starts at site.json's size and drops to 192 px if it falls under 15 frames/s
const sizes = (values['video-size'] ?? '224').split(',');

const root = await mkdtemp(path.join(os.tmpdir(), 'fer-web-measure-'));
try {
  let runDir = values.run ? path.resolve(process.env.INIT_CWD ?? process.cwd(), values.run) : '';
  if (!runDir) {
    await selectBackend('wasm');
    runDir = path.join(root, 'run');
    await saveModel(buildModel(values.model ?? 'vgg', { seed: 1 }), path.join(runDir, 'model'));
  }
  const photo = await composePhoto(path.join(root, 'one-face.png'), 1);
  const clip = path.join(root, 'one-face.y4m');
  await writeFile(clip, y4m(photo, 2));
  const server = await startServer({ runDirs: [runDir], port: 0 });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`, '--enable-unsafe-swiftshader'],
  });
  console.log(`model: ${values.run ? runDir : `untrained ${values.model ?? 'vgg'}`}; ${os.cpus().length} CPU cores; Chromium ${browser.version()}`);
  try {
    for (const backend of backends)
      for (const size of sizes) {
        const page = await browser.newPage();
        const parts = new Map<string, { files: number; bytes: number }>();
        const sizesDone: Promise<void>[] = [];
        page.on('requestfinished', (r) =>
          sizesDone.push(
            r.sizes().then((s) => {
              const p = new URL(r.url()).pathname;
              const part = p.startsWith('/models/') ? 'model' : p.startsWith('/detector/') ? 'detector' : p.startsWith('/tfjs-wasm/') ? 'tfjs wasm' : 'page';
              const e = parts.get(part) ?? { files: 0, bytes: 0 };
              e.files++;
              e.bytes += s.responseBodySize + s.responseHeadersSize;
              parts.set(part, e);
            }),
          ),
        );
        const t0 = Date.now();
        await page.goto(`${server.url}?backend=${backend}${size === 'auto' ? '' : `&video-size=${size}`}`);
        await page.waitForFunction(
          () => (window as unknown as { fer: { ready: boolean; error?: string } }).fer.ready || (window as unknown as { fer: { error?: string } }).fer.error,
          null,
          {
            timeout: 60_000,
          },
        );
        const ready = await page.evaluate(
          () => ({ ...(window as unknown as { fer: object }).fer, now: performance.now() }) as { ready: boolean; error?: string; backend: string; now: number },
        );
        if (!ready.ready) throw new Error(`the page did not start: ${ready.error}`);
        const readyMs = Date.now() - t0;
        await page.click('#camera');
        await page.waitForFunction(() => (window as unknown as { fer: { frames: number } }).fer.frames > 0, null, { timeout: 60_000 });
        const firstMs = Date.now() - t0;
        const inPage = await page.evaluate(() => (window as unknown as { fer: { firstPrediction: number } }).fer.firstPrediction);
        // frames over a window, after a second of warm-up
        await page.waitForTimeout(1000);
        const a = await page.evaluate(() => ({ frames: (window as unknown as { fer: { frames: number } }).fer.frames, t: performance.now() }));
        await page.waitForTimeout(seconds * 1000);
        const b = await page.evaluate(() => ({
          frames: (window as unknown as { fer: { frames: number } }).fer.frames,
          t: performance.now(),
          faces: (window as unknown as { fer: { result?: { faces: unknown[] } } }).fer.result?.faces.length,
          stages: (window as unknown as { fer: { stages?: Record<string, number> } }).fer.stages ?? {},
          videoInputSize: (window as unknown as { fer: { videoInputSize?: number } }).fer.videoInputSize,
        }));
        await Promise.all(sizesDone);
        const cameraParts = new Map([...parts].map(([k, v]) => [k, { ...v }]));
        // then a photo: SSD MobileNet and the full landmark net load on the first one
        await page.setInputFiles('#file', path.join(root, 'one-face.png'));
        await page.waitForFunction(() => (window as unknown as { fer: { result?: { source: string } } }).fer.result?.source === 'photo', null, { timeout: 60_000 });
        await page.waitForLoadState('networkidle');
        await Promise.all(sizesDone);
        const photoTotal = [...parts.values()].reduce((s, p) => s + p.bytes, 0);
        const fps = ((b.frames - a.frames) * 1000) / (b.t - a.t);
        const total = [...cameraParts.values()].reduce((s, p) => s + p.bytes, 0);
        console.log(
          `\nbackend ${ready.backend}, tiny detector at ${size === 'auto' ? `auto (${b.videoInputSize} px at the end)` : `${size} px`}: ${fps.toFixed(1)} frames/s on one face (${b.frames - a.frames} frames in ${((b.t - a.t) / 1000).toFixed(1)} s, ${b.faces} face found)`,
        );
        console.log(
          `  last frame: ${Object.entries(b.stages)
            .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
            .join(', ')}`,
        );
        console.log(`  page load to ready (models loaded): ${readyMs} ms; to the first camera prediction: ${firstMs} ms (page clock: ${inPage.toFixed(0)} ms)`);
        console.log(`  transferred for the camera: ${(total / 1e6).toFixed(2)} MB; after a photo too: ${(photoTotal / 1e6).toFixed(2)} MB`);
        for (const [part, p] of [...cameraParts].sort((x, y) => y[1].bytes - x[1].bytes))
          console.log(`    ${part.padEnd(10)} ${(p.bytes / 1e6).toFixed(2)} MB in ${p.files} files`);
        await page.close();
      }
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
