import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  EMOTIONS,
  type FaceBox,
  PIXELS_PER_IMAGE,
  type RawImage,
  boxIoU,
  buildModel,
  describePredictions,
  facesInPhoto,
  isFerError,
  predictFaces,
  saveModel,
  selectBackend,
} from '@fer/core';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, exportSite, siteFiles, startServer } from './node/index.js';
import { composePhoto, y4m } from './test-fixtures.js';

// The page in Debian's headless Chromium, served by startServer, against Node's pipeline (core's facesInPhoto
// + predictFaces, what `fer predict --json` runs) on the same picture: a photo composed from face-api's demo
// photo (never FER2013 data), uploaded, and the same picture as the fake webcam's video.

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--mute-audio'];
let root: string;
let runDirs: string[];
let models: tf.LayersModel[];
let server: RunningServer;
let browser: Browser | undefined;
let photoFile: string;
let photo: RawImage;
/** What Node's pipeline finds in the composed photo (boxes, labels, probabilities) with each detector. */
type Expected = { box: FaceBox; label: number; probabilities: Float32Array }[];
const expected: Partial<Record<'ssd' | 'tiny', Expected>> = {};

/**
 * A tiny CNN whose last layer is scaled up: untrained models give every face nearly the same, flat
 * probabilities; this one's depend on the face, so the comparisons below would see a wrong crop.
 */
async function sensitiveRun(dir: string, seed: number): Promise<tf.LayersModel> {
  const model = buildModel('tiny', { seed });
  const last = model.layers[model.layers.length - 1];
  last.setWeights(last.getWeights().map((w) => tf.mul(w, 25)));
  await saveModel(model, path.join(dir, 'model'));
  return model;
}

interface PageFace {
  box: FaceBox;
  label: number;
  emotion: string;
  probabilities: number[];
}
interface PageState {
  ready: boolean;
  error?: string;
  frames: number;
  videoInputSize?: number;
  result?: { source: string; faces: PageFace[]; saliencyMaps: number };
}

/** A page of the served site, with every console error and every request recorded. */
async function openPage(b: Browser, options: { permissions?: string[]; query?: string } = {}) {
  const context = await b.newContext({ viewport: { width: 1100, height: 760 }, permissions: options.permissions });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}${options.query ?? ''}`);
  await page.waitForFunction(() => (window as unknown as { fer?: PageState }).fer?.ready || (window as unknown as { fer?: PageState }).fer?.error, null, { timeout: 60_000 });
  return { page, errors, requests, context };
}

const fer = (page: Page) => page.evaluate(() => (window as unknown as { fer: PageState }).fer);

/** The page's faces set beside Node's: the same count, each box where Node's is, the same label. */
function expectSameFaces(faces: PageFace[], what: string, node: Expected, probabilityTolerance?: number) {
  expect(faces.length, what).toBe(node.length);
  for (const e of node) {
    const match = faces.reduce((best, f) => (boxIoU(f.box, e.box) > boxIoU(best.box, e.box) ? f : best));
    expect(boxIoU(match.box, e.box), `${what}: IoU with Node's box ${JSON.stringify(e.box)}`).toBeGreaterThanOrEqual(0.5);
    expect(match.emotion, `${what}: the face at ${Math.round(e.box.x)},${Math.round(e.box.y)}`).toBe(EMOTIONS[e.label]);
    expect(match.probabilities).toHaveLength(EMOTIONS.length);
    if (probabilityTolerance !== undefined)
      for (const [k, p] of match.probabilities.entries()) expect(Math.abs(p - e.probabilities[k]), `${what}: ${EMOTIONS[k]}`).toBeLessThan(probabilityTolerance);
  }
}

const local = (url: string) => url.startsWith(server.url) || url.startsWith('data:') || url.startsWith('blob:');

beforeAll(async () => {
  await selectBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-web-'));
  runDirs = [path.join(root, 'run-a'), path.join(root, 'run-b')];
  // seeds whose average has a clear top class on these faces (each untrained net leans to one class)
  models = [await sensitiveRun(runDirs[0], 1), await sensitiveRun(runDirs[1], 7)];
  photoFile = path.join(root, 'two-faces.png');
  photo = await composePhoto(photoFile);
  for (const detector of ['ssd', 'tiny'] as const) {
    const found = await facesInPhoto(photo, { detector });
    expect(found.pixels.length).toBe(2 * PIXELS_PER_IMAGE);
    const probs = await predictFaces(models, found.pixels);
    expected[detector] = describePredictions(probs).map((p, i) => ({ box: found.faces[i].box, label: p.label, probabilities: probs.subarray(i * 7, i * 7 + 7) }));
  }
  server = await startServer({ runDirs, port: 0 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('siteFiles, exportSite, startServer', () => {
  it("lists the page, tfjs's wasm, the detector's weights, each run's model and site.json", async () => {
    const files = await siteFiles(runDirs);
    for (const p of [
      '/',
      '/index.html',
      '/site.json',
      '/tfjs-wasm/tfjs-backend-wasm-simd.wasm',
      '/detector/ssd_mobilenetv1_model.bin',
      '/detector/face_landmark_68_model-weights_manifest.json',
    ])
      expect(files.has(p), p).toBe(true);
    for (const i of [0, 1]) {
      expect(files.get(`/models/${i}/model.json`)).toEqual({ file: path.join(runDirs[i], 'model', 'model.json') });
      expect(files.has(`/models/${i}/weights.bin`)).toBe(true);
    }
    expect([...files.keys()].some((p) => /^\/assets\/.*\.js$/.test(p))).toBe(true);
    const site = JSON.parse(new TextDecoder().decode((files.get('/site.json') as { bytes: Uint8Array }).bytes));
    expect(site.classes).toEqual([...EMOTIONS]);
    expect(site.input).toEqual({ height: 48, width: 48, channels: 1, scale: 1 / 255 });
    expect(site.models.map((m: { name: string; url: string }) => [m.name, m.url])).toEqual([
      ['run-a', 'models/0/model.json'],
      ['run-b', 'models/1/model.json'],
    ]);
  });

  it('a run without model/model.json is an error naming the directory and the fix', async () => {
    const empty = path.join(root, 'no-model');
    await mkdir(empty, { recursive: true });
    const err = await siteFiles([runDirs[0], empty]).catch((e) => e);
    expect(isFerError(err)).toBe(true);
    expect(err.message).toContain(`${empty} has no model/model.json`);
    expect(err.hint).toMatch(/fer train/);
    await expect(siteFiles([path.join(root, 'nowhere')])).rejects.toThrow(/nowhere is not a directory/);
  });

  it('exportSite writes every file into a new folder and will not write into a non-empty one', async () => {
    const out = path.join(root, 'site');
    const { files, bytes } = await exportSite(runDirs.slice(0, 1), out);
    expect(files).toContain('index.html');
    expect(files).toContain('site.json');
    expect(files).toContain('models/0/weights.bin');
    expect(files).toContain('detector/tiny_face_detector_model.bin');
    expect(await readFile(path.join(out, 'models', '0', 'weights.bin'))).toEqual(await readFile(path.join(runDirs[0], 'model', 'weights.bin')));
    expect(bytes).toBeGreaterThan(5e6);
    expect((await readdir(path.join(out, 'tfjs-wasm'))).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
    await expect(exportSite(runDirs, out)).rejects.toThrow(/is not empty/);
  });

  it('serves each file with its content type; 404 for other paths, 405 for other methods', async () => {
    const get = (p: string, init?: RequestInit) => fetch(new URL(p, server.url), init);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<canvas id="view"');
    expect((await get('/tfjs-wasm/tfjs-backend-wasm-simd.wasm')).headers.get('content-type')).toBe('application/wasm');
    expect((await get('/site.json')).headers.get('content-type')).toBe('application/json; charset=utf-8');
    const weights = await get('/models/1/weights.bin');
    expect(new Uint8Array(await weights.arrayBuffer())).toEqual(new Uint8Array(await readFile(path.join(runDirs[1], 'model', 'weights.bin'))));
    expect((await get('/nothing-here.js')).status).toBe(404);
    expect((await get('/models/2/model.json')).status).toBe(404);
    const post = await get('/index.html', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const getPredict = await get('/predict');
    expect(getPredict.status).toBe(405);
    expect(getPredict.headers.get('allow')).toBe('POST');
    // POST /predict is mounted (predict-route.test.ts tests what it answers)
    const predicted = await get('/predict', { method: 'POST', body: new Uint8Array(await readFile(photoFile)), headers: { 'content-type': 'image/png' } });
    expect(predicted.status).toBe(200);
    expect((await predicted.json()).length).toBe(2);
  });
});

describe('the page in headless Chromium', () => {
  const chromium = async (args: string[]): Promise<Browser | undefined> => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium (.ci/run)`);
      console.warn(`SKIPPED the browser tests: ${CHROMIUM} is absent (apt-get install chromium)`);
      return undefined;
    }
    const { chromium } = await import('playwright-core');
    return chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...args] });
  };

  it("the webcam (a fake camera playing the photo) and an uploaded photo: boxes where Node's are, Node's labels, all from localhost", async () => {
    const clip = path.join(root, 'two-faces.y4m');
    await writeFile(clip, y4m(photo, 3));
    browser = await chromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`]);
    if (!browser) return;
    const { page, errors, requests } = await openPage(browser);
    expect(await fer(page)).toMatchObject({ ready: true, frames: 0 });
    await page.click('#camera');
    await page.waitForFunction(
      () => ((window as unknown as { fer: PageState }).fer.result?.faces.length ?? 0) >= 2 && (window as unknown as { fer: PageState }).fer.frames >= 3,
      null,
      {
        timeout: 30_000,
      },
    );
    const live = await fer(page);
    expect(live.result?.source).toBe('camera');
    // video goes through the Tiny Face Detector (at 224 px on the frame shrunk to 448; Node's at 416) and the
    // tiny landmark net: boxes a little looser than Node's, crops a little off, probabilities within 0.02-0.03
    expectSameFaces(live.result!.faces, 'camera', expected.tiny!, 0.08);
    expect(await page.locator('#faces li').count()).toBe(2);
    expect(await page.locator('#faces li').first().locator('.bar').count()).toBe(7);

    await page.setInputFiles('#file', photoFile);
    await page.waitForFunction(() => (window as unknown as { fer: PageState }).fer.result?.source === 'photo', null, { timeout: 30_000 });
    const still = await fer(page);
    // SSD MobileNet on the photo, as in Node: the same boxes, crops within about a grey level, so the same probabilities
    expectSameFaces(still.result!.faces, 'photo', expected.ssd!, 0.02);
    expect(await page.locator('#faces li h2').allTextContents()).toEqual(still.result!.faces.map((f, i) => `Face ${i + 1}: ${f.emotion}`));
    expect(await page.locator('#message').isHidden()).toBe(true);

    await page.check('#saliency');
    await page.waitForFunction(() => (window as unknown as { fer: PageState }).fer.result?.saliencyMaps === 2, null, { timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !local(u))).toEqual([]);
    expect(requests.some((u) => u.endsWith('/tfjs-wasm/tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  it('the camera looks at 192 px once it falls under ?min-fps (15 by default) and goes on finding the faces', async () => {
    if (!browser) return;
    const { page, errors, context } = await openPage(browser, { query: '?min-fps=1000' });
    expect((await fer(page)).videoInputSize).toBe(224);
    await page.click('#camera');
    await page.waitForFunction(() => (window as unknown as { fer: PageState }).fer.videoInputSize === 192, null, { timeout: 30_000 });
    const frames = (await fer(page)).frames;
    await page.waitForFunction((n) => (window as unknown as { fer: PageState }).fer.frames >= n + 2, frames, { timeout: 30_000 });
    expect((await fer(page)).result?.faces.length).toBe(2);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a file that is not an image, a broken image and a model that fails to load: clear messages, nothing crashes', async () => {
    if (!browser) return;
    const { page, errors, context } = await openPage(browser);
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await expect.poll(() => page.locator('#message').textContent()).toBe('"notes.txt" is not an image (text/plain): open a JPEG, PNG, WebP or GIF photo.');
    await page.setInputFiles('#file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a JPEG at all') });
    await expect.poll(() => page.locator('#message').textContent()).toMatch(/^"broken\.jpg" could not be read as an image/);
    expect(errors).toEqual([]);
    await page.setInputFiles('#file', photoFile);
    await page.waitForFunction(() => (window as unknown as { fer: PageState }).fer.result?.source === 'photo', null, { timeout: 30_000 });
    expect(await page.locator('#message').isHidden()).toBe(true);

    const broken = await context.newPage();
    await broken.route('**/models/1/model.json', (route) => route.fulfill({ status: 404, body: 'gone' }));
    await broken.goto(server.url);
    await expect
      .poll(() => broken.locator('#message').textContent(), { timeout: 30_000 })
      .toMatch(/^The page could not start: the model of run "run-b" could not be loaded \(models\/1\/model\.json: .*404/);
    expect(await broken.locator('#camera').isDisabled()).toBe(true);
    await context.close();
  });

  it('a denied camera: a clear message, and the photo input stays usable', async () => {
    if (!browser) return;
    // no --use-fake-ui-for-media-stream in this browser: the permission prompt is denied
    const denying = await chromium(['--use-fake-device-for-media-stream', '--deny-permission-prompts']);
    try {
      const { page, errors } = await openPage(denying!);
      await page.click('#camera');
      await expect.poll(() => page.locator('#message').textContent()).toMatch(/^The camera is blocked for this page: allow camera access/);
      expect(await page.locator('#camera').textContent()).toBe('Start camera');
      expect(await page.locator('#file').isEnabled()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await denying?.close();
    }
  });
});
