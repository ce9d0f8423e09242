import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EMOTIONS, NO_FACE_EXIT_CODE, buildModel, ensembleInputs, faceModelDir, loadRunEnsemble, predictPhotos, saveModel, selectBackend } from '@fer/core';
import { main } from '../main.js';

// fer predict on photos: faces found by face-api's detector in its demo photo (never FER2013 data), each
// classified by tiny untrained models (what they say does not matter here, only that every face gets it).

let root: string;
/** face-api's demo photo, 1920x1280 with three faces. */
const photo = () => path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');

/** Runs `fer args...` in-process; returns the exit code and what it printed. */
async function fer(...args: string[]) {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, text: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

beforeAll(async () => {
  await selectBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-faces-'));
  await saveModel(buildModel('tiny', { seed: 1 }), path.join(root, 'run', 'model'));
  await saveModel(buildModel('tiny', { seed: 2 }), path.join(root, 'run2', 'model'));
  // a blank 400x300 grey PNG: larger than a cropped face, so it is searched, and holds none
  const blank = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAZAAAAEsCAIAAABi1XKVAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAC70lEQVR42u3UQREAAAzCMKQjHR3bJRL6aApwRCQADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwLMCwAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAswLAkAwwIwLMCwAAwLwLAAwwIwLADDAgwLwLAADAswLADDAjAswLAADAvAsADDAjAsAMMCDAvAsAAMCzAsAMMCMCzAsAAMCzAsAMMCMCzAsAAMC8CwAMMCMCwAwwIMC8CwAAwL+GziIEkyCMVXlgAAAABJRU5ErkJggg==',
    'base64',
  );
  await writeFile(path.join(root, 'blank.png'), blank);
  await writeFile(path.join(root, 'broken.jpg'), 'not a JPEG');
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('fer predict on photos', () => {
  it('--json lists each face found, with its box, detector score and probabilities', async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), photo(), '--json');
    expect(r.code, r.text).toBe(0);
    const faces = JSON.parse(r.text);
    expect(faces).toHaveLength(3);
    for (const [i, f] of faces.entries()) {
      expect(f.file).toBe(photo());
      expect(f.face).toBe(i + 1);
      expect(f.box.width).toBeGreaterThan(100);
      expect(f.box.x + f.box.width).toBeLessThanOrEqual(1920);
      expect(f.score).toBeGreaterThan(0.5);
      const probs = Object.values(f.probabilities) as number[];
      expect(probs).toHaveLength(7);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(EMOTIONS[f.label]).toBe(f.emotion);
    }
  });

  it("--json prints predictPhotos' rows (what fer serve's POST /predict answers), with the runs and options given", async () => {
    const runs = [path.join(root, 'run'), path.join(root, 'run2')];
    const r = await fer('predict', '--run', runs[0], '--run', runs[1], '--tta', '--min-face', '0', '--detector', 'tiny', photo(), '--json');
    expect(r.code, r.text).toBe(0);
    const { models, cropPad } = ensembleInputs(await loadRunEnsemble(runs.map((dir) => ({ dir }))));
    const { rows } = await predictPhotos(models, [{ name: photo(), file: photo() }], { tta: true, cropPad, minFaceSize: 0, detector: 'tiny' });
    expect(rows.length).toBeGreaterThan(0);
    expect(r.text).toBe(JSON.stringify(rows, null, 2));
  });

  it('--annotate writes the photo as PNG with the faces drawn; --tta and several runs work on found faces', async () => {
    const out = path.join(root, 'annotated.png');
    const r = await fer('predict', '--run', path.join(root, 'run'), '--run', path.join(root, 'run2'), '--tta', photo(), '--annotate', out, '--min-face', '0');
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/3 faces/);
    expect(r.text).toMatch(/face 1 at \d+,\d+ \d+x\d+ \(score [01]\.\d\d\): \w+ \d+\.\d%/);
    expect(existsSync(out)).toBe(true);
    expect(pngSize(await readFile(out))).toEqual({ width: 1920, height: 1280 });
  });

  it(`an image with no face says so and exits ${NO_FACE_EXIT_CODE}; --no-detect classifies it whole`, async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'blank.png'));
    expect(r.code, r.text).toBe(NO_FACE_EXIT_CODE);
    expect(r.text).toMatch(/blank\.png: no face found \(400x300\)/);
    const whole = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'blank.png'), '--no-detect', '--json');
    expect(whole.code, whole.text).toBe(0);
    expect(JSON.parse(whole.text)).toMatchObject([{ face: 1, box: null, score: null }]);
    const both = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'blank.png'), '--no-detect', '--mirror');
    expect(both.code).toBe(1);
    expect(both.text).toMatch(/--mirror is for searching photos for faces/);
  });

  it('a corrupt image: a clear error naming the file, exit 1', async () => {
    const r = await fer('predict', '--run', path.join(root, 'run'), path.join(root, 'broken.jpg'));
    expect(r.code).toBe(1);
    expect(r.text).toContain('broken.jpg is not a readable image');
    expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
