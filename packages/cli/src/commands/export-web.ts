import path from 'node:path';
import { FerError } from '@fer/core';
import { exportSite } from '@fer/web';
import type { Command } from '../command.js';
import { parseFlags, userPath } from '../args.js';
import { runDirsFlag } from './serve.js';

const USAGE = `usage: fer export-web --run DIR [--run DIR2 ...] --out DIR

Writes the web page of \`fer serve\` as a static site into DIR (new or empty): the page, tfjs's WebAssembly
files, face-api's detector and landmark weights, each run's model (models/<i>/) and site.json, which names
them. Any static web server can serve it (e.g. cd DIR && python3 -m http.server 8000); everything runs in
the browser, and browsers give the camera only to https pages or to localhost. POST /predict is fer
serve's alone.

  --run DIR     a run directory from \`fer train\` (with its model/); repeat to average several runs
  --out DIR     the folder to write (created; it must be empty if it exists)`;

const MB = 1024 * 1024;

export const exportWeb: Command = {
  name: 'export-web',
  summary: "write fer serve's web page, models included, as a static site for any web server",
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(argv, { run: { type: 'string', multiple: true }, out: { type: 'string' } }, 'export-web');
    const runDirs = runDirsFlag(v.run, 'fer export-web --run runs/strong-a --out site');
    if (!v.out) throw new FerError('--out DIR is required: the folder to write the site into', { hint: 'e.g. fer export-web --run runs/strong-a --out site' });
    const out = userPath(v.out);
    const { files, bytes } = await exportSite(runDirs, out);
    const parts = new Map<string, { n: number; bytes: number }>();
    const { stat } = await import('node:fs/promises');
    for (const f of files) {
      const part = f.startsWith('models/') ? 'models' : f.startsWith('detector/') ? 'detector' : f.startsWith('tfjs-wasm/') ? 'tfjs wasm' : 'page';
      const p = parts.get(part) ?? { n: 0, bytes: 0 };
      p.n++;
      p.bytes += (await stat(path.join(out, f))).size;
      parts.set(part, p);
    }
    console.log(`wrote ${out}: ${files.length} files, ${(bytes / MB).toFixed(1)} MB`);
    for (const [part, p] of parts) console.log(`  ${part.padEnd(10)} ${String(p.n).padStart(3)} file${p.n === 1 ? ' ' : 's'}  ${(p.bytes / MB).toFixed(2)} MB`);
    const shown = path.relative(process.env.INIT_CWD ?? process.cwd(), out);
    console.log(`serve it with any static web server, e.g. cd ${shown && !shown.startsWith('..') ? shown : out} && python3 -m http.server 8000`);
    return 0;
  },
};
