import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildModel, saveModel, selectBackend } from '@fer/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main.js';

// fer serve and fer export-web around @fer/web (whose own tests run the page in Chromium): flags, messages,
// what is written and served. A tiny untrained model stands for a trained run.

let root: string;
let out: string[] = [];

beforeAll(async () => {
  await selectBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-cli-web-'));
  await saveModel(buildModel('tiny', { seed: 1 }), path.join(root, 'run', 'model'));
  await mkdir(path.join(root, 'unfinished'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Starts `fer args...` in-process, its printing captured in `out`; returns its exit-code promise and a restore. */
function start(...args: string[]) {
  out = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')));
  const code = main(args).finally(() => {
    log.mockRestore();
    err.mockRestore();
  });
  return code;
}

async function fer(...args: string[]) {
  const code = await start(...args);
  return { code, text: out.join('\n') };
}

describe('fer export-web', () => {
  it('writes the static site, model included, and says what it wrote', async () => {
    const site = path.join(root, 'site');
    const r = await fer('export-web', '--run', path.join(root, 'run'), '--out', site);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(new RegExp(`wrote ${site}: \\d+ files, \\d+\\.\\d MB`));
    expect(r.text).toMatch(/models\s+2 files/);
    expect(r.text).toMatch(/detector\s+\d+ files/);
    expect(await readFile(path.join(site, 'models', '0', 'weights.bin'))).toEqual(await readFile(path.join(root, 'run', 'model', 'weights.bin')));
    expect(JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')).models).toEqual([{ name: 'run', url: 'models/0/model.json' }]);
    expect(await readFile(path.join(site, 'index.html'), 'utf8')).toContain('<canvas id="view"');

    const again = await fer('export-web', '--run', path.join(root, 'run'), '--out', site);
    expect(again.code).toBe(1);
    expect(again.text).toContain(`${site} is not empty`);
    expect(again.text).toContain('fix: give --out a new or empty folder');
  });

  it('a run without a model, a missing --out or --run: clear errors, exit 1', async () => {
    const noModel = await fer('export-web', '--run', path.join(root, 'unfinished'), '--out', path.join(root, 'site2'));
    expect(noModel.code).toBe(1);
    expect(noModel.text).toContain(`${path.join(root, 'unfinished')} has no model/model.json`);
    expect(noModel.text).not.toMatch(/at .*\.ts:\d+/);
    expect((await fer('export-web', '--run', path.join(root, 'run'))).text).toContain('--out DIR is required');
    expect((await fer('export-web', '--out', path.join(root, 'site3'))).text).toContain('--run DIR is required');
  });
});

describe('fer serve', () => {
  it('prints the URL on 127.0.0.1, serves the page and POST /predict, and stops on Ctrl-C', async () => {
    const done = start('serve', '--run', path.join(root, 'run'), '--port', '0', '--backend', 'wasm');
    await vi.waitFor(() => expect(out.join('\n')).toMatch(/open http:\/\/127\.0\.0\.1:\d+\//), { timeout: 60_000, interval: 100 });
    const url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.join('\n'))![1];
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<canvas id="view"');
    expect((await fetch(new URL('/site.json', url))).status).toBe(200);
    expect((await fetch(new URL('/missing', url))).status).toBe(404);
    const predicted = await fetch(new URL('/predict', url), { method: 'POST', body: new Uint8Array(48 * 48).fill(1) });
    expect(predicted.status).toBe(415);
    process.emit('SIGINT');
    expect(await done).toBe(0);
    expect(out.join('\n')).toContain('fer serve: stopped');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a bad port, a port in use and a run without a model: clear errors, exit 1', async () => {
    const bad = await fer('serve', '--run', path.join(root, 'run'), '--port', '70000');
    expect(bad.code).toBe(1);
    expect(bad.text).toContain('--port must be an integer from 0 to 65535 (got "70000")');
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const inUse = await fer('serve', '--run', path.join(root, 'run'), '--port', String(port));
      expect(inUse.code).toBe(1);
      expect(inUse.text).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
    const noModel = await fer('serve', '--run', path.join(root, 'unfinished'), '--port', '0');
    expect(noModel.code).toBe(1);
    expect(noModel.text).toContain('has no model/model.json');
  });

  it('--help tells both commands', async () => {
    expect((await fer('serve', '--help')).text).toMatch(/--port N\s+the port \(default 8080\); 0 takes any free port/);
    expect((await fer('export-web', '--help')).text).toContain('--out DIR');
    expect((await fer('--help')).text).toMatch(/serve\s+serve the web page/);
  });
});
