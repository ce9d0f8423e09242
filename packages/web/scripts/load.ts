/**
 * Load on POST /predict (predictRoute on node:http, in a child process of its own, as `fer serve` runs it):
 * requests per second and latency (median, p95) for a one-face photo with 1 and with 8 concurrent clients for
 * N seconds each; then, --rounds times, 300 bad requests (empty, text, the photo cut short, oversized with and
 * without Content-Length), 8 at a time: the status codes seen, and whether the server's RSS, its tfjs tensors
 * and its answer to the photo changed.
 *
 *   pnpm serve-load --run runs/x [--seconds 20] [--rounds 2] [--photo face.jpg] [--backend auto|wasm|cpu|node]
 *
 * Without --photo the photo is one face of face-api's demo photo pasted on a 640x480 grey canvas.
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, faceModelDir, selectBackend } from '@fer/core';
import sharp from 'sharp';
import { predictRoute } from '../src/node/predict-route.js';

const MAX_BYTES = 10 * 1024 * 1024;

interface ServerStats {
  rss: number;
  tensors: number;
  inHand: number;
  peakComputing: number;
}

/** The child: the route on 127.0.0.1, any port; tells the parent its port, and its memory when asked. */
async function serve(runDir: string, backend: BackendChoice): Promise<void> {
  const info = await selectBackend(backend);
  const handler = await predictRoute({ runDirs: [runDir], maxBytes: MAX_BYTES });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m) => {
    if (m === 'stats') process.send?.({ rss: process.memoryUsage().rss, tensors: tf.memory().numTensors, ...handler.stats() } satisfies ServerStats);
    if (m === 'stop') server.close(() => process.exit(0));
  });
  process.send?.({ port: (server.address() as AddressInfo).port, backend: info.name });
}

interface Reply {
  status: number;
  text: string;
  ms: number;
}

function post(port: number, body: Buffer | string, options: { agent?: Agent; chunked?: boolean } = {}): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let replied = false;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (!options.chunked) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', headers, agent: options.agent ?? false }, (res) => {
      replied = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (!replied) reject(e);
    });
    if (options.chunked) {
      const b = Buffer.from(body);
      for (let i = 0; i < b.length; i += 64 * 1024) req.write(b.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** `clients` clients, each sending the photo again as soon as answered, for `seconds`. */
async function load(port: number, photo: Buffer, expected: string, clients: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const ms: number[] = [];
  const statuses = new Map<number, number>();
  let differing = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await post(port, photo, { agent });
        ms.push(r.ms);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.text !== expected) differing++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  ms.sort((a, b) => a - b);
  return {
    clients,
    requests: ms.length,
    seconds: elapsed,
    perSecond: ms.length / elapsed,
    median: quantile(ms, 0.5),
    p95: quantile(ms, 0.95),
    statuses: Object.fromEntries(statuses),
    differing,
  };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      run: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      photo: { type: 'string' },
      backend: { type: 'string' },
      serve: { type: 'boolean' },
    },
  });
  const cwd = process.env.INIT_CWD ?? process.cwd();
  if (!v.run) throw new Error('--run DIR is required (a run directory from fer train, with its model/)');
  const runDir = path.resolve(cwd, v.run);
  const backend = (v.backend ?? 'auto') as BackendChoice;
  if (v.serve) return serve(runDir, backend);
  const seconds = Number(v.seconds ?? 20);

  let photo: Buffer;
  if (v.photo) photo = await readFile(path.resolve(cwd, v.photo));
  else {
    const b = { x: 838, y: 421, width: 186, height: 228 }; // a face of face-api's demo photo
    const m = Math.round(0.5 * b.width);
    const face = await sharp(path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg'))
      .extract({ left: b.x - m, top: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m })
      .resize({ width: 300 })
      .toBuffer();
    photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: face, left: 170, top: 60 }])
      .jpeg({ quality: 90 })
      .toBuffer();
  }

  const child = fork(process.argv[1], ['--serve', '--run', runDir, '--backend', backend], { execArgv: process.execArgv });
  const messages: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m) => messages.shift()?.resolve(m));
  child.on('exit', (code) => {
    for (const m of messages.splice(0)) m.reject(new Error(`the server process ended (exit code ${code})`));
  });
  const next = <T>() => new Promise<T>((resolve, reject) => messages.push({ resolve: resolve as (m: unknown) => void, reject }));
  const stats = async () => {
    const p = next<ServerStats>();
    child.send('stats');
    return p;
  };
  try {
    const { port, backend: used } = await next<{ port: number; backend: string }>();
    console.log(`POST /predict on ${used}, run ${runDir}, photo ${photo.length} bytes (${v.photo ?? 'one demo face on 640x480'}), ${seconds} s per load`);
    // warm up (first detection loads face-api's weights), and the answer every later one must equal
    const first = await post(port, photo);
    if (first.status !== 200) throw new Error(`the photo got ${first.status}: ${first.text}`);
    const faces = (JSON.parse(first.text) as unknown[]).length;
    for (let i = 0; i < 3; i++) await post(port, photo);
    const fresh = await stats();
    console.log(`server after warm-up: RSS ${mb(fresh.rss)}, ${fresh.tensors} tensors; the photo: ${faces} face(s), first answer ${first.ms.toFixed(0)} ms`);

    for (const clients of [1, 8]) {
      const r = await load(port, photo, first.text, clients, seconds);
      console.log(
        `${clients} client${clients > 1 ? 's' : ' '}: ${r.requests} requests in ${r.seconds.toFixed(1)} s = ${r.perSecond.toFixed(2)} req/s, latency median ${r.median.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms; statuses ${JSON.stringify(r.statuses)}, answers differing from the first: ${r.differing}`,
      );
    }

    const truncated = photo.subarray(0, Math.round(photo.length * 0.6));
    const kinds: { what: string; body: Buffer | string; chunked?: boolean }[] = [
      { what: 'empty', body: Buffer.alloc(0) },
      { what: 'text', body: 'this is not an image' },
      { what: 'truncated', body: truncated },
      { what: 'oversized (Content-Length)', body: Buffer.alloc(MAX_BYTES + 1, 1) },
      { what: 'oversized (chunked)', body: Buffer.alloc(2 * MAX_BYTES, 1), chunked: true },
    ];
    // twice: a leak grows with each round, a high-water mark of freed bodies does not
    for (let round = 1; round <= Number(v.rounds ?? 2); round++) {
      const before = await stats();
      const seen = new Map<string, number>();
      let errors = 0;
      let nextBad = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (nextBad < 300) {
            const k = kinds[nextBad++ % kinds.length];
            let key: string;
            try {
              key = `${k.what} -> ${(await post(port, k.body, { chunked: k.chunked })).status}`;
            } catch (e) {
              errors++;
              key = `${k.what} -> ${(e as NodeJS.ErrnoException).code ?? 'error'}`;
            }
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
        }),
      );
      const badSeconds = (performance.now() - t0) / 1000;
      const after = await post(port, photo);
      const end = await stats();
      console.log(
        `round ${round}: 300 bad requests, 8 at a time, in ${badSeconds.toFixed(1)} s (${errors} without an answer): ${[...seen].map(([key, n]) => `${key}: ${n}`).join(', ')}`,
      );
      console.log(
        `  then the photo: ${after.status}, answer ${after.text === first.text ? 'identical to the first' : 'DIFFERENT'}; server RSS ${mb(before.rss)} before, ${mb(end.rss)} after (${end.rss >= before.rss ? '+' : ''}${mb(end.rss - before.rss)}), tensors ${before.tensors} -> ${end.tensors}, requests in hand ${end.inHand}, most computing at once ${end.peakComputing}`,
      );
    }
  } finally {
    child.send('stop');
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
