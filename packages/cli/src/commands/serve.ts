import { FerError } from '@fer/core';
import { DEFAULT_PORT, startServer } from '@fer/web';
import type { Command } from '../command.js';
import { backendFlag, intFlag, parseFlags, userPath } from '../args.js';

const USAGE = `usage: fer serve --run DIR [--run DIR2 ...] [--port N] [--host ADDR] [--backend NAME]

Serves the web page: open a photo (or drop one) or start the webcam, and each face found gets a box and
the seven expressions' bars; a switch draws SmoothGrad's saliency over each face. Everything is computed
in the browser (tfjs: WebGL on a real GPU, else WebAssembly) with the runs' models (several: their
probabilities averaged) and face-api's detector, all served from this machine: nothing leaves it.
Also POST /predict, for programs: an image file as the body, what \`fer predict --json\` prints for it as
the answer, computed here in Node (docs/web.md).
The page is built (vite) the first time, or when its sources changed. Ctrl-C stops the server.

  --run DIR     a run directory from \`fer train\` (with its model/); repeat to average several runs
  --port N      the port (default ${DEFAULT_PORT}); 0 takes any free port
  --host ADDR   the address to listen on (default 127.0.0.1: this machine only); 0.0.0.0 listens on
                every network (browsers then give the camera only to https pages, or to localhost)
  --backend NAME  the tfjs backend of POST /predict: auto (default), node, wasm or cpu

fer export-web writes the same page as static files for any web server.`;

/** --run DIR, repeatable: each directory as the user meant it. */
export function runDirsFlag(values: string[] | undefined, example: string): string[] {
  if (!values?.length) throw new FerError('--run DIR is required', { hint: `e.g. ${example}` });
  return values.map(userPath);
}

export const serve: Command = {
  name: 'serve',
  summary: 'serve the web page: webcam or photo, each face boxed with its expressions, saliency, in the browser',
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      { run: { type: 'string', multiple: true }, port: { type: 'string' }, host: { type: 'string' }, backend: { type: 'string' } },
      'serve',
    );
    const runDirs = runDirsFlag(v.run, 'fer serve --run runs/strong-a');
    const port = intFlag('port', v.port, DEFAULT_PORT, 0, 65535);
    const host = v.host ?? '127.0.0.1';
    if (!host.trim()) throw new FerError('--host is empty', { hint: 'e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every network)' });
    await backendFlag(v.backend);
    const server = await startServer({ runDirs, host, port });
    console.log(`fer serve: ${runDirs.length > 1 ? `${runDirs.length} runs averaged` : runDirs[0]}`);
    console.log(`open ${server.url}   (Ctrl-C stops)`);
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1')
      console.log(`listening on ${host}: other machines can open it too; their browsers give the camera only to https pages`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    console.log('fer serve: stopped');
    return 0;
  },
};
