import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CROPPED_FACE_MAX_SIDE,
  FACE_DETECTORS,
  type FaceDetectorName,
  type PhotoOptions,
  ensembleInputs,
  imageHeader,
  isFerError,
  loadRunEnsemble,
  predictPhotos,
} from '@fer/core';

/**
 * POST /predict of `fer serve`: the body is one image file (JPEG, PNG, WebP, GIF, TIFF, AVIF: the file's bytes
 * themselves, not a form), the answer what `fer predict --json` prints for it, byte for byte but for `file`
 * (the `name` query parameter, default "upload"). Status codes, each error a JSON object { error, hint }:
 *
 *   200  the faces: [{ file, face, box {x,y,width,height}, score, label, emotion, probabilities }, ...];
 *        box and score are null for an image taken as one cropped face (one 128 px or smaller, or detect=false)
 *   400  an empty body, a body shorter than its Content-Length, an image that cannot be decoded (cut short,
 *        corrupt), a bad query parameter
 *   405  not POST (Allow: POST)
 *   408  the body took longer than bodyTimeoutMs to arrive
 *   413  a body over maxBytes (answered as soon as it is known: by its Content-Length before any of it is read,
 *        else once maxBytes have come; nothing more is kept, and the connection closes after at most maxBytes
 *        more or 2 s, long enough for the client to read the answer), or an image of more than maxPixels
 *   415  a body that is no image (text, a form, an unknown format), or one that is no photo (SVG)
 *   422  the photo was searched and holds no face: { error, hint, faces: [] } (`fer predict` says the same
 *        and exits 3; its --json prints [])
 *   503  maxQueue requests are already being read, waiting or computed (Retry-After: seconds)
 *   500  a bug: the error, logged
 *
 * Query parameters (optional, each overrides the server's default): detect=auto|true|false,
 * detector=ssd|tiny|blaze|ssd+blaze (`fer predict --detector`; ssd+blaze is `ssd%2Bblaze` in a URL),
 * min-score=X (0 < X <= 0.99), min-face=N (pixels, 0: whole photo only), mirror=true|false (also search the
 * photo mirrored, as `fer predict --mirror`), retry=true|false (false: `fer predict --no-retry`), tta=true|false,
 * name=TEXT.
 *
 * The runs are loaded once. Bodies are read concurrently (at most maxQueue at a time, each at most maxBytes),
 * but decoding, detection and classification run one request at a time, in arrival order: tfjs's tensors of
 * two requests never interleave, and memory holds one photo's work. The handler never throws or rejects.
 * Call selectBackend (fer serve's --backend) before the first request.
 */
export interface PredictRouteOptions {
  /** Run directories whose models are averaged (one or more, as `fer predict --run`). */
  runDirs: string[];
  /** The largest body accepted, in bytes (default 10 MiB). */
  maxBytes?: number;
  /** The largest image accepted, in pixels (default 40 million, e.g. 8000x5000): decoding is 3 bytes a pixel. */
  maxPixels?: number;
  /** Requests admitted at once: being read, waiting or computing (default 16); more get 503 (their bodies are not read). */
  maxQueue?: number;
  /** How long a body may take to arrive, in ms (default 30 s): a slow client holds a place in the queue. */
  bodyTimeoutMs?: number;
  /** As `fer predict`: undefined searches images over 128 px for faces, true every image, false none. */
  detect?: boolean;
  detector?: FaceDetectorName;
  minScore?: number;
  minFaceSize?: number;
  /** Also search each photo mirrored, as `fer predict --mirror`. */
  mirror?: boolean;
  /** With ssd, search a photo where SSD finds no face once more, in a grey margin, as ssd+blaze with the mirrored pass (detectFaces' `retry`; default true; false: `fer predict --no-retry`). */
  retry?: boolean;
  /** Test-time augmentation, as `fer predict --tta`. */
  tta?: boolean;
  /** Where unexpected errors (500) are logged (default console.error). */
  log?: (line: string) => void;
}

export interface PredictHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Requests in hand now (being read, waiting or computing: at most maxQueue), computing now (0 or 1), and the most ever computing at once (1). */
  stats(): { inHand: number; computing: number; peakComputing: number };
}

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 40_000_000;
export const DEFAULT_MAX_QUEUE = 16;

/** An answer other than 200: its status, JSON body and extra headers. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint: string,
    readonly extra: { headers?: Record<string, string>; body?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

/** The formats (as sharp names them) a body may be: photos, not drawings (SVG) or documents. */
const RASTER_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'];
const RASTER_TEXT = 'a JPEG, PNG, WebP, GIF, TIFF or AVIF/HEIF file';

const QUERY_KEYS = ['detect', 'detector', 'min-score', 'min-face', 'mirror', 'retry', 'tta', 'name'];
const TRUE = ['true', '1', 'yes', ''];
const FALSE = ['false', '0', 'no'];

/** The request's query parameters over the server's defaults; a bad one is a 400. */
function requestOptions(url: string | undefined, defaults: PhotoOptions): { name: string; options: PhotoOptions } {
  const q = new URL(url ?? '/', 'http://x').searchParams;
  const bad = (message: string, hint: string) => new HttpError(400, message, hint);
  for (const key of q.keys()) if (!QUERY_KEYS.includes(key)) throw bad(`unknown query parameter "${key}"`, `use ${QUERY_KEYS.join(', ')} (e.g. /predict?detector=tiny&min-face=0)`);
  const options = { ...defaults };
  const bool = (key: string): boolean | undefined => {
    const v = q.get(key);
    if (v === null) return undefined;
    if (TRUE.includes(v.toLowerCase())) return true;
    if (FALSE.includes(v.toLowerCase())) return false;
    throw bad(`${key} must be true or false (got "${v}")`, `e.g. /predict?${key}=true`);
  };
  const detect = q.get('detect');
  if (detect !== null) options.detect = detect.toLowerCase() === 'auto' ? undefined : bool('detect');
  const tta = bool('tta');
  if (tta !== undefined) options.tta = tta;
  const mirror = bool('mirror');
  if (mirror !== undefined) options.mirror = mirror;
  const retry = bool('retry');
  if (retry !== undefined) options.retry = retry;
  const detector = q.get('detector');
  if (detector !== null) {
    if (!FACE_DETECTORS.includes(detector as FaceDetectorName)) throw bad(`unknown detector "${detector}"`, `use detector=${FACE_DETECTORS.join(' or detector=')}`);
    options.detector = detector as FaceDetectorName;
  }
  const minScore = q.get('min-score');
  if (minScore !== null) {
    const n = Number(minScore);
    if (minScore === '' || !(n > 0 && n <= 0.99)) throw bad(`min-score must be a number above 0 and at most 0.99 (got "${minScore}")`, 'e.g. /predict?min-score=0.3');
    options.minScore = n;
  }
  const minFace = q.get('min-face');
  if (minFace !== null) {
    const n = Number(minFace);
    if (minFace === '' || !Number.isInteger(n) || n < 0 || n > 100_000)
      throw bad(`min-face must be a whole number of pixels, 0 or more (got "${minFace}")`, 'e.g. /predict?min-face=64 (0: search the whole photo only)');
    options.minFaceSize = n;
  }
  const name = q.get('name') ?? 'upload';
  if (name.length > 256) throw bad(`name is ${name.length} characters long, more than 256`, 'shorten it: it is only what the answer calls the image');
  return { name, options };
}

const sizeText = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/**
 * The request's body, at most `maxBytes`: a declared or received length over it is a 413 at once (nothing more
 * is kept), a connection closed before Content-Length bytes came a 400, a body slower than `timeoutMs` a 408.
 */
function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    const tooLarge = (declaredSize?: number) =>
      new HttpError(
        413,
        `the image is ${declaredSize === undefined ? 'larger than' : `${sizeText(declaredSize)}, more than`} the ${sizeText(maxBytes)} this server accepts`,
        'send a smaller image: shrink or recompress it (a photo of 2000 px on its longer side is plenty)',
      );
    if (declared !== undefined && declared > maxBytes) return reject(tooLarge(declared));
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (e: HttpError | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (e) {
        chunks.length = 0;
        reject(e);
      } else resolve(Buffer.concat(chunks, received));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const timer = setTimeout(
      () =>
        finish(
          new HttpError(
            408,
            `the body took more than ${timeoutMs / 1000} s to arrive (${sizeText(received)} came)`,
            'send the image in one request, on a faster connection, or a smaller image',
          ),
        ),
      timeoutMs,
    );
    req.on('data', onData);
    req.on('end', () => {
      if (declared !== undefined && received !== declared)
        finish(new HttpError(400, `the body is ${sizeText(received)} but its Content-Length says ${declared} bytes`, 'send the whole file; its Content-Length must be its size'));
      else finish(undefined);
    });
    const cut = () =>
      finish(
        new HttpError(400, `the connection closed after ${sizeText(received)} of the body${declared !== undefined ? ` (Content-Length ${declared})` : ''}`, 'send the whole file'),
      );
    req.on('error', cut);
    req.on('close', cut); // after 'end' this does nothing
  });
}

/** How long a refused request's connection stays open, reading and dropping the rest of its body, at most. */
const LINGER_MS = 2000;

/**
 * After refusing a request whose body has not all come (too large, no room in the queue): keep nothing of the
 * rest, and close the connection once `maxBytes` more have come or LINGER_MS have passed. Closing at once would
 * let the client's unsent body reset the connection, which throws away the answer it has not read yet (the client
 * sees EPIPE or ECONNRESET instead of 413 or 503); a body that ends in time leaves the connection usable.
 */
function linger(req: IncomingMessage, maxBytes: number): void {
  let dropped = 0;
  const close = () => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(close, LINGER_MS);
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > maxBytes) close();
  });
  req.on('end', () => clearTimeout(timer));
  req.on('close', () => clearTimeout(timer));
  req.resume();
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * The handler of POST /predict (see PredictRouteOptions): loads the runs now (a missing or unreadable run is a
 * FerError here, not at the first request), then answers each request.
 */
export async function predictRoute(options: PredictRouteOptions): Promise<PredictHandler> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const log = options.log ?? ((line: string) => console.error(line));
  const runs = await loadRunEnsemble(options.runDirs.map((dir) => ({ dir })));
  const { models, cropPad } = ensembleInputs(runs);
  const defaults: PhotoOptions = {
    cropPad,
    tta: options.tta,
    detect: options.detect,
    detector: options.detector,
    minScore: options.minScore,
    minFaceSize: options.minFaceSize,
    mirror: options.mirror,
    retry: options.retry,
  };

  let admitted = 0; // requests being read, waiting or computing
  let tail: Promise<void> = Promise.resolve(); // the last computation queued
  let meanMs = 500; // recent computations' mean time, for Retry-After
  let computing = 0;
  let peakComputing = 0;

  /** Runs `fn` after every computation queued before it, one at a time. */
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST')
      throw new HttpError(405, `${req.method} is not allowed on /predict: POST an image`, 'e.g. curl --data-binary @photo.jpg http://127.0.0.1:8080/predict', {
        headers: { allow: 'POST' },
      });
    const { name, options: photoOptions } = requestOptions(req.url, defaults);
    const body = await readBody(req, maxBytes, bodyTimeoutMs);
    if (body.length === 0)
      throw new HttpError(400, 'the request body is empty', 'POST the image file as the body, e.g. curl --data-binary @photo.jpg http://127.0.0.1:8080/predict');
    const rows = await serially(async () => {
      if (res.destroyed || req.socket.destroyed) return undefined; // the client left while waiting
      const started = performance.now();
      peakComputing = Math.max(peakComputing, ++computing);
      try {
        const source = 'the request body';
        let header: Awaited<ReturnType<typeof imageHeader>>;
        try {
          header = await imageHeader(body, source);
        } catch (e) {
          throw new HttpError(415, (e as Error).message, `send ${RASTER_TEXT} itself as the body (not a form, not base64), e.g. curl --data-binary @photo.jpg`);
        }
        if (!RASTER_FORMATS.includes(header.format))
          throw new HttpError(415, `the request body is ${header.format.toUpperCase()}, not a photo format this server reads`, `send ${RASTER_TEXT}`);
        if (header.width * header.height > maxPixels)
          throw new HttpError(
            413,
            `the image is ${header.width}x${header.height}, ${((header.width * header.height) / 1e6).toFixed(1)} megapixels, more than the ${(maxPixels / 1e6).toFixed(1)} this server decodes`,
            'shrink it first (faces of 64 px and more are found; a photo of 2000 px on its longer side is plenty)',
          );
        const { images, rows } = await predictPhotos(models, [{ name, bytes: body, source }], photoOptions);
        if (images[0].noFace)
          throw new HttpError(
            422,
            `no face found in ${name} (${images[0].width}x${images[0].height})`,
            `send detect=false to classify the whole image as one cropped face, or lower min-score / min-face (images of ${CROPPED_FACE_MAX_SIDE} px and less are taken as one face)`,
            { body: { faces: [] } },
          );
        return rows;
      } finally {
        computing--;
        meanMs = 0.8 * meanMs + 0.2 * (performance.now() - started);
      }
    });
    if (rows) sendJson(res, 200, rows);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // An error event with no listener would be thrown: every one is answered or ignored here.
    req.on('error', () => {});
    res.on('error', () => {});
    let entered = false;
    try {
      if (admitted >= maxQueue) {
        const seconds = Math.max(1, Math.ceil((meanMs * admitted) / 1000));
        throw new HttpError(503, `the server is busy: ${admitted} requests are being read or computed`, `retry in ${seconds} s`, { headers: { 'retry-after': String(seconds) } });
      }
      admitted++;
      entered = true;
      await answer(req, res);
    } catch (e) {
      let status: number;
      let body: Record<string, unknown>;
      let headers: Record<string, string> = {};
      if (e instanceof HttpError) {
        status = e.status;
        body = { error: e.message, hint: e.hint, ...e.extra.body };
        headers = e.extra.headers ?? {};
      } else if (isFerError(e)) {
        // decoding the body (cut short, corrupt): the one input a request brings
        status = 400;
        body = { error: e.message, hint: e.hint ?? 'send a whole JPEG, PNG, WebP, GIF or TIFF file' };
      } else {
        status = 500;
        body = { error: `fer serve failed on this request: ${(e as Error)?.message ?? String(e)}`, hint: 'this is a bug in fer: please report it with the image' };
        log(`POST /predict: ${(e as Error)?.stack ?? String(e)}`);
      }
      // A body not read to its end: answered now, its connection closed by linger (node:http would close it as
      // soon as the answer is sent, if the client asked for Connection: close).
      const unread = !req.complete && !req.socket.destroyed;
      if (unread && req.httpVersion === '1.1') res.shouldKeepAlive = true;
      try {
        sendJson(res, status, body, headers);
      } catch {
        res.destroy();
      }
      if (unread) linger(req, maxBytes);
    } finally {
      if (entered) admitted--;
    }
  };
  return Object.assign(handler, { stats: () => ({ inHand: admitted, computing, peakComputing }) });
}
