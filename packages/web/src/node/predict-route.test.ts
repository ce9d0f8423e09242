import { type Server, createServer, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type PhotoFaceRow, buildModel, ensembleInputs, faceModelDir, loadRunEnsemble, predictPhotos, saveModel, selectBackend } from '@fer/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PredictHandler, predictRoute } from './predict-route.js';

// POST /predict on a node:http server: photos composed from face-api's demo photo (never FER2013 data),
// classified by a tiny untrained model (what it says does not matter, only that the answer is fer predict's).

const MAX_BYTES = 1024 * 1024;
let root: string;
let server: Server;
let handler: PredictHandler;
let port: number;
let runDir: string;
/** A 480x360 JPEG with two of the demo photo's faces pasted on grey, a 48x48 grey face, a blank 400x300 PNG. */
let photo: Buffer;
let face48: Buffer;
let blank: Buffer;
/** What predictPhotos (fer predict --json) says of `photo`, named "photo.jpg". */
let expected: PhotoFaceRow[];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** One request with node:http (its own connection); the reply even when the server closes before the body is sent. */
function send(pathname: string, body?: Buffer | string, options: { method?: string; chunked?: boolean; to?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let replied = false;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (body !== undefined && !options.chunked) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request({ host: '127.0.0.1', port: options.to ?? port, path: pathname, method: options.method ?? 'POST', headers, agent: false }, (res) => {
      replied = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
      });
      res.on('error', reject);
    });
    // writing the rest of a refused body fails once the server has closed: the reply is what counts
    req.on('error', (e) => {
      if (!replied) reject(e);
    });
    if (body === undefined) req.end();
    else if (options.chunked) {
      const b = Buffer.from(body);
      for (let i = 0; i < b.length; i += 64 * 1024) req.write(b.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

const demo = () => path.join(path.dirname(faceModelDir()), 'demo', 'sample1.jpg');
/** Two faces of the demo photo (its boxes as SSD MobileNet finds them). */
const DEMO_FACES = [
  { x: 414, y: 355, width: 177, height: 240 },
  { x: 1476, y: 199, width: 203, height: 241 },
];

/** Waits (at most 2 s) until the handler holds no request: each one's end has been seen. */
async function settled(): Promise<void> {
  for (let i = 0; i < 200 && handler.stats().inHand > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(handler.stats().inHand).toBe(0);
}

async function listen(handler: PredictHandler): Promise<Server> {
  const s = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}

beforeAll(async () => {
  await selectBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-predict-route-'));
  runDir = path.join(root, 'run');
  await saveModel(buildModel('tiny', { seed: 1 }), path.join(runDir, 'model'));
  const composites: sharp.OverlayOptions[] = [];
  for (const [i, b] of DEMO_FACES.entries()) {
    const m = Math.round(0.5 * b.width);
    const region = { left: b.x - m, top: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m };
    composites.push({ input: await sharp(demo()).extract(region).resize({ width: 200 }).toBuffer(), left: 20 + 240 * i, top: 40 });
  }
  photo = await sharp({ create: { width: 480, height: 360, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(composites)
    .jpeg({ quality: 90 })
    .toBuffer();
  const b = DEMO_FACES[0];
  face48 = await sharp(demo()).extract({ left: b.x, top: b.y, width: b.width, height: b.width }).greyscale().resize(48, 48).png().toBuffer();
  blank = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toBuffer();
  const runs = await loadRunEnsemble([{ dir: runDir }]);
  expected = (await predictPhotos(ensembleInputs(runs).models, [{ name: 'photo.jpg', bytes: photo }])).rows;
  handler = await predictRoute({ runDirs: [runDir], maxBytes: MAX_BYTES });
  server = await listen(handler);
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  if (root) await rm(root, { recursive: true, force: true });
});

describe('POST /predict', () => {
  it("answers a photo with fer predict --json's rows: each face, its box and score, the probabilities", async () => {
    expect(expected).toHaveLength(2);
    const r = await send('/predict?name=photo.jpg', photo);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json).toEqual(expected);
    // the default name, and the same faces
    const plain = await send('/predict', photo);
    expect(plain.json).toEqual(expected.map((row) => ({ ...row, file: 'upload' })));
  });

  it('takes a 48x48 face as one cropped face (box and score null), or searches it with detect=true', async () => {
    const r = await send('/predict', face48);
    expect(r.status).toBe(200);
    const rows = r.json as PhotoFaceRow[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ file: 'upload', face: 1, box: null, score: null });
    expect(Object.values(rows[0].probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const runs = await loadRunEnsemble([{ dir: runDir }]);
    expect(rows).toEqual((await predictPhotos(ensembleInputs(runs).models, [{ name: 'upload', bytes: face48 }])).rows);
    // searched, a 48x48 picture that is all face: SSD alone finds none (422); the retry, in a grey margin, finds it
    const ssdOnly = await send('/predict?detect=true&retry=false', face48);
    expect(ssdOnly.status).toBe(422);
    const searched = await send('/predict?detect=true', face48);
    expect(searched.status).toBe(200);
    const found = searched.json as PhotoFaceRow[];
    expect(found).toHaveLength(1);
    expect(found[0].box).not.toBeNull();
    expect(found[0].box!.x + found[0].box!.width).toBeLessThanOrEqual(48);
    expect(found[0].box!.y + found[0].box!.height).toBeLessThanOrEqual(48);
  });

  it('a photo with no face: 422 with the error, a hint and no faces; detect=false classifies it whole', async () => {
    const r = await send('/predict?name=blank.png', blank);
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'no face found in blank.png (400x300)', faces: [] });
    expect((r.json as { hint: string }).hint).toMatch(/detect=false/);
    const whole = await send('/predict?detect=false', blank);
    expect(whole.status).toBe(200);
    expect(whole.json).toMatchObject([{ face: 1, box: null, score: null }]);
  });

  it('bad requests get 400, 405, 413 or 415 with { error, hint }', async () => {
    const cases: [string, Promise<Reply>, number, RegExp][] = [
      ['empty', send('/predict', Buffer.alloc(0)), 400, /body is empty/],
      ['no body', send('/predict'), 400, /body is empty/],
      ['text', send('/predict', 'hello, this is not an image'), 415, /the request body is not an image/],
      ['SVG', send('/predict', '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="20"/></svg>'), 415, /the request body is SVG/],
      ['truncated JPEG', send('/predict', photo.subarray(0, photo.length >> 1)), 400, /the request body is not a readable image/],
      ['oversized', send('/predict', Buffer.alloc(MAX_BYTES + 1, 7)), 413, /more than the 1\.0 MiB/],
      ['oversized, chunked', send('/predict', Buffer.alloc(3 * MAX_BYTES, 7), { chunked: true }), 413, /larger than the 1\.0 MiB/],
      ['GET', send('/predict', undefined, { method: 'GET' }), 405, /GET is not allowed/],
      ['bad detector', send('/predict?detector=yolo', photo), 400, /unknown detector "yolo"/],
      ['bad min-score', send('/predict?min-score=2', photo), 400, /min-score must be/],
      ['bad mirror', send('/predict?mirror=maybe', photo), 400, /mirror must be true or false/],
      ['unknown parameter', send('/predict?threshold=1', photo), 400, /unknown query parameter "threshold"/],
    ];
    for (const [what, reply, status, message] of cases) {
      const r = await reply;
      expect(r.status, what).toBe(status);
      const body = r.json as { error: string; hint: string };
      expect(body.error, what).toMatch(message);
      expect(body.hint.length, what).toBeGreaterThan(10);
    }
    expect((await send('/predict', undefined, { method: 'GET' })).headers.allow).toBe('POST');
  });

  it('a body cut short of its Content-Length is given up (node:http answers 400), and the server goes on', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: ${photo.length}\r\n\r\n`);
        socket.write(photo.subarray(0, 1000));
        socket.end(); // no more: the connection ends 1000 bytes into the body
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    // the request was let go: its place in the queue is free again
    await settled();
    expect((await send('/predict?name=photo.jpg', photo)).json).toEqual(expected);
  });

  it('300 bad requests, 8 at a time, change nothing: the next photo gets the same answer and no tensor is left', async () => {
    const tensors = tf.memory().numTensors;
    // oversized: with its Content-Length (refused before it is read) or chunked (refused once 1 MiB has come)
    const kinds: [Buffer | string, number, boolean?][] = [
      [Buffer.alloc(0), 400],
      ['<html>not an image</html>', 415],
      [photo.subarray(0, Math.round(photo.length * 0.6)), 400],
      [Buffer.alloc(MAX_BYTES + 100, 1), 413],
      [Buffer.alloc(2 * MAX_BYTES, 1), 413, true],
    ];
    const seen = new Map<number, number>();
    const wrong: string[] = [];
    let next = 0;
    const client = async () => {
      while (next < 300) {
        const i = next++;
        const [body, status, chunked] = kinds[i % kinds.length];
        const r = await send('/predict', body, { chunked });
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        if (r.status !== status || typeof (r.json as { error?: unknown }).error !== 'string') wrong.push(`request ${i}: ${r.status} ${JSON.stringify(r.json)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    expect(wrong).toEqual([]);
    expect(Object.fromEntries(seen)).toEqual({ 400: 120, 413: 120, 415: 60 });
    await settled();
    expect((await send('/predict?name=photo.jpg', photo)).json).toEqual(expected);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('8 concurrent photos are each answered as alone', async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => send(`/predict?name=photo.jpg${i % 2 ? '&detector=ssd' : ''}`, photo)));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.json).toEqual(expected);
    }
    // one at a time: no two requests' decoding, detection and classification ever overlapped
    expect(handler.stats().peakComputing).toBe(1);
  });

  it('beyond maxQueue requests in hand: 503 with Retry-After, and those in hand still answered', async () => {
    const small = await listen(await predictRoute({ runDirs: [runDir], maxQueue: 2 }));
    const to = (small.address() as AddressInfo).port;
    try {
      // two uploads that have begun and wait for the rest of their body hold the queue's two places
      const sockets: net.Socket[] = [];
      const held = [0, 1].map(
        () =>
          new Promise<string>((resolve, reject) => {
            const socket = net.connect(to, '127.0.0.1');
            sockets.push(socket);
            let text = '';
            socket.on('data', (d) => (text += d.toString('latin1')));
            socket.on('end', () => resolve(text));
            socket.on('error', reject);
            socket.write(`POST /predict?name=held HTTP/1.1\r\nHost: x\r\nContent-Length: ${face48.length}\r\nConnection: close\r\n\r\n`);
            socket.write(face48.subarray(0, 10));
          }),
      );
      // until the server has both in hand a whole request gets in (200); then it is turned away
      let busy: Reply | undefined;
      for (let i = 0; i < 50 && !busy; i++) {
        const r = await send('/predict', face48, { to });
        if (r.status === 503) busy = r;
        else expect(r.status).toBe(200);
      }
      if (!busy) throw new Error('50 requests got in while two uploads held the queue: no 503');
      expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((busy.json as { error: string }).error).toMatch(/busy: 2 requests/);
      for (const socket of sockets) socket.write(face48.subarray(10));
      for (const text of await Promise.all(held)) expect(text).toMatch(/^HTTP\/1\.1 200 [\s\S]*"file": "held"/);
      // and once they are answered there is room again
      expect((await send('/predict', face48, { to })).status).toBe(200);
    } finally {
      small.closeAllConnections();
      await new Promise((r) => small.close(r));
    }
  });
});
