import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MIN_SCORE, EMOTIONS, FerError, IMAGE_SIZE, faceModelDir, isDirectory, readRunJson, runPaths, settledDir } from '@fer/core';
import { type SiteJson, VIDEO_INPUT_SIZE } from '../shared/site-json.js';
import { ensureWebBuild, packageFile } from './build.js';

/** One file of the site: on disk, or made in memory (site.json). */
export type SiteFile = { file: string } | { bytes: Uint8Array };

/** The URL paths of the site (leading slash) and what each serves. */
export type SiteFiles = Map<string, SiteFile>;

/** tfjs's wasm backend binaries, served from the site (setWasmPaths points there: no CDN). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** face-api's weights the page loads: SSD MobileNet and the 68 landmarks (photos), Tiny Face Detector and the tiny landmark net (video). */
export const DETECTOR_MODELS = ['ssd_mobilenetv1_model', 'face_landmark_68_model', 'tiny_face_detector_model', 'face_landmark_68_tiny_model'];

async function walk(dir: string, prefix = ''): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full, `${prefix}${e.name}/`)));
    else out.push([`${prefix}${e.name}`, full]);
  }
  return out;
}

/** A run's model folder (model/ or, mid-save, model.old/) with its model.json; a FerError naming the run and the fix otherwise. */
async function runModelDir(runDir: string): Promise<string> {
  if (!(await isDirectory(runDir))) throw new FerError(`${runDir} is not a directory`, { hint: 'pass --run a run directory written by `fer train` (runs/<name>)' });
  const dir = settledDir(runPaths(runDir).model);
  if (!existsSync(path.join(dir, 'model.json')))
    throw new FerError(`${runDir} has no model/model.json: the page needs the run's trained model`, {
      hint: 'wait for the run to finish its first epoch, or train one with `pnpm fer train --out DIR`, then pass that directory to --run',
    });
  return dir;
}

/**
 * Every file of the site for these runs, by URL path: the page (/, /index.html, /assets/...), tfjs's wasm
 * files (/tfjs-wasm/), face-api's weights (/detector/), each run's model (/models/<i>/model.json and its
 * weights) and /site.json, which tells the page about them. Builds the page first if needed (ensureWebBuild).
 */
export async function siteFiles(runDirs: readonly string[]): Promise<SiteFiles> {
  if (!runDirs.length) throw new FerError('no run given: the page needs at least one trained model', { hint: 'pass --run DIR (a run directory from `fer train`)' });
  const files: SiteFiles = new Map();
  const models: SiteJson['models'] = [];
  for (const [i, runDir] of runDirs.entries()) {
    const dir = await runModelDir(runDir);
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths: string[] }[] };
    files.set(`/models/${i}/model.json`, { file: path.join(dir, 'model.json') });
    for (const p of (json.weightsManifest ?? []).flatMap((g) => g.paths)) {
      const f = path.join(dir, p);
      if (!existsSync(f)) throw new FerError(`${f} is missing (model.json lists it)`, { hint: 'the model directory is incomplete: restore it from a checkpoint or train again' });
      files.set(`/models/${i}/${p}`, { file: f });
    }
    const run = await readRunJson(runDir, { optional: true }).catch(() => undefined);
    models.push({
      name: path.basename(path.resolve(runDir)),
      url: `models/${i}/model.json`,
      architecture: run?.config.model,
      epochs: run?.result?.epochs,
    });
  }
  const page = await ensureWebBuild();
  for (const [rel, file] of await walk(page)) files.set(`/${rel}`, { file });
  files.set('/', { file: path.join(page, 'index.html') });
  for (const f of WASM_FILES) files.set(`/tfjs-wasm/${f}`, { file: packageFile('@tensorflow/tfjs-backend-wasm', path.join('dist', f)) });
  const weights = faceModelDir();
  for (const name of DETECTOR_MODELS) {
    const manifest = path.join(weights, `${name}-weights_manifest.json`);
    if (!existsSync(manifest)) throw new FerError(`the face detector's weights are missing: ${manifest} does not exist`, { hint: 'reinstall @vladmandic/face-api (pnpm install)' });
    files.set(`/detector/${name}-weights_manifest.json`, { file: manifest });
    for (const p of (JSON.parse(await readFile(manifest, 'utf8')) as { paths: string[] }[]).flatMap((g) => g.paths)) files.set(`/detector/${p}`, { file: path.join(weights, p) });
  }
  const site: SiteJson = {
    version: 1,
    classes: [...EMOTIONS],
    input: { height: IMAGE_SIZE, width: IMAGE_SIZE, channels: 1, scale: 1 / 255 },
    models,
    detector: { url: 'detector/', photo: 'ssd', video: 'tiny', videoInputSize: VIDEO_INPUT_SIZE, minScore: { ...DEFAULT_MIN_SCORE } },
    wasm: 'tfjs-wasm/',
  };
  files.set('/site.json', { bytes: new TextEncoder().encode(`${JSON.stringify(site, null, 2)}\n`) });
  return files;
}

/** The bytes of a site file. */
export async function readSiteFile(f: SiteFile): Promise<Uint8Array> {
  return 'bytes' in f ? f.bytes : new Uint8Array(await readFile(f.file));
}

/** The size of a site file in bytes. */
export async function siteFileSize(f: SiteFile): Promise<number> {
  return 'bytes' in f ? f.bytes.length : (await stat(f.file)).size;
}

/**
 * Writes the static site (the page, tfjs's wasm files, the detector's weights, the models, site.json) to
 * `outDir`, to put on any static web server. `outDir` must be new or empty: fer does not write over other
 * files. Returns the files written (relative paths) and their total size in bytes.
 */
export async function exportSite(runDirs: readonly string[], outDir: string): Promise<{ files: string[]; bytes: number }> {
  if (existsSync(outDir)) {
    if (!(await isDirectory(outDir))) throw new FerError(`${outDir} is a file, not a folder`, { hint: 'give --out a new or empty folder' });
    const present = (await readdir(outDir)).filter((f) => f !== '.DS_Store');
    if (present.length)
      throw new FerError(
        `${outDir} is not empty (${present.length} entr${present.length === 1 ? 'y' : 'ies'}: ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''})`,
        {
          hint: 'give --out a new or empty folder; fer export-web does not write over other files',
        },
      );
  }
  const files = await siteFiles(runDirs);
  const written: string[] = [];
  let bytes = 0;
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new FerError(`cannot create ${outDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { hint: 'give --out a folder you can write to' });
  }
  for (const [url, f] of files) {
    if (url === '/') continue;
    const rel = url.slice(1);
    const target = path.join(outDir, ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    if ('bytes' in f) await writeFile(target, f.bytes);
    else await copyFile(f.file, target);
    written.push(rel);
    bytes += await siteFileSize(f);
  }
  return { files: written.sort(), bytes };
}
