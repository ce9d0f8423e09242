import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerError } from '@fer/core';

const require = createRequire(import.meta.url);

/** packages/web: found from this file, whether it runs from src/node/ (source) or dist/ (built). */
export function webPackageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === '@fer/web') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new FerError(`cannot find the @fer/web package above ${fileURLToPath(import.meta.url)}`, { hint: 'reinstall fer (pnpm install)' });
    dir = up;
  }
}

/** Where vite writes the page (ignored by git, rebuilt when older than its sources). */
export function pageDir(): string {
  return path.join(webPackageDir(), 'dist-page');
}

/** The folder of an installed package's file `sub` (resolved from @fer/web, as the page's bundle resolves it). */
export function packageFile(name: string, sub: string): string {
  return path.join(path.dirname(require.resolve(`${name}/package.json`)), sub);
}

/** The files the page is built from: its own, the shared site.json type, and what it takes from @fer/core/face. */
function pageSources(): string[] {
  const web = webPackageDir();
  const core = path.dirname(require.resolve('@fer/core/package.json'));
  return [
    path.join(web, 'src', 'app'),
    path.join(web, 'src', 'shared'),
    path.join(web, 'package.json'),
    path.join(core, 'src', 'face.ts'),
    path.join(core, 'src', 'classes.ts'),
    path.join(core, 'src', 'detect', 'geometry.ts'),
  ];
}

async function newest(p: string): Promise<number> {
  const s = await stat(p).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let t = s.mtimeMs;
  for (const e of await readdir(p)) t = Math.max(t, await newest(path.join(p, e)));
  return t;
}

/** The vite configuration of the page (root src/app, relative URLs so that an exported site works in any folder). */
export async function viteConfig(outDir: string): Promise<import('vite').InlineConfig> {
  const { defaultClientConditions } = await import('vite');
  const tfjs = (name: string) => ({ find: new RegExp(`^${name.replace('/', '\\/')}(/dist/index\\.js)?$`), replacement: packageFile(name, 'dist/index.js') });
  return {
    configFile: false,
    root: path.join(webPackageDir(), 'src', 'app'),
    base: './',
    publicDir: false,
    logLevel: 'warn',
    clearScreen: false,
    resolve: {
      // @fer/core/face from its TypeScript source (a fresh clone has no dist/); one tfjs for the page and face-api
      conditions: ['source', ...defaultClientConditions],
      alias: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgl'].map(tfjs),
    },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 5000 },
  };
}

let building: Promise<string> | undefined;

/**
 * The built page's folder (index.html, assets/). Builds it with vite when it is missing or older than its
 * sources, so that `fer serve` works in a fresh clone after `pnpm install`. Safe when several processes
 * build at once: each builds aside and moves its build into place.
 */
export function ensureWebBuild(options: { force?: boolean } = {}): Promise<string> {
  building ??= (async () => {
    const out = pageDir();
    const stamp = path.join(out, '.built');
    const sources = Math.max(...(await Promise.all(pageSources().map(newest))));
    if (!options.force && existsSync(stamp) && (await stat(stamp)).mtimeMs >= sources && existsSync(path.join(out, 'index.html'))) return out;
    let vite: typeof import('vite');
    try {
      vite = await import('vite');
    } catch {
      throw new FerError(`the web page is not built (${out}) and vite is not installed to build it`, {
        hint: 'run pnpm install in the fer repository (vite is a dev dependency of @fer/web)',
      });
    }
    const aside = `${out}.${process.pid}.${Date.now()}`;
    try {
      await vite.build(await viteConfig(aside));
    } catch (e) {
      await rm(aside, { recursive: true, force: true });
      throw new FerError(`building the web page failed: ${(e as Error).message.split('\n')[0]}`, { hint: 'run pnpm --filter @fer/web build:page to see the whole error' });
    }
    await writeFile(path.join(aside, '.built'), new Date().toISOString());
    const old = `${out}.old.${process.pid}`;
    await rename(out, old).catch(() => undefined);
    await rename(aside, out).catch(async () => {
      // another process moved its build in first: keep that one
      await rm(aside, { recursive: true, force: true });
    });
    await rm(old, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    return out;
  })().finally(() => {
    building = undefined;
  });
  return building;
}
