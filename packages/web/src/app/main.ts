/**
 * The page: a photo (file input or drop) or the webcam; each face found gets a box on the picture and the
 * seven classes' bars; a switch draws SmoothGrad's saliency over each face. Everything runs in the page
 * (tfjs: webgl on a real GPU, else wasm), from files the site itself serves.
 */
import { type FaceDetectorName, cropRegion } from '@fer/core/face';
import type * as tf from '@tensorflow/tfjs';
import type { SiteJson } from '../shared/site-json.js';
import { type FaceResult, classify, detect, greyAround, loadModels, smoothGrad, startBackend } from './pipeline.js';

const COLOURS = ['#f59e0b', '#10b981', '#3b82f6', '#ef4444', '#a855f7', '#ec4899', '#14b8a6', '#84cc16'];
/** SmoothGrad's noisy copies: a photo is drawn once, a video frame every frame. */
const SALIENCY_SAMPLES = { photo: 16, camera: 4 };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = $<HTMLParagraphElement>('status');
const message = $<HTMLParagraphElement>('message');
const cameraButton = $<HTMLButtonElement>('camera');
const fileInput = $<HTMLInputElement>('file');
const drop = $<HTMLLabelElement>('drop');
const saliencySwitch = $<HTMLInputElement>('saliency');
const fpsLine = $<HTMLSpanElement>('fps');
const canvas = $<HTMLCanvasElement>('view');
const facesList = $<HTMLOListElement>('faces');
const video = $<HTMLVideoElement>('video');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;

/** What the page last found, for tests and measurements (read with page.evaluate). */
interface FerState {
  ready: boolean;
  backend?: string;
  /** ms from navigation start to the first prediction shown. */
  firstPrediction?: number;
  frames: number;
  fps?: number;
  /** The Tiny Face Detector's input on video now (it drops to VIDEO_INPUT_SIZE_FAST when the camera falls behind). */
  videoInputSize?: number;
  result?: {
    source: 'photo' | 'camera';
    width: number;
    height: number;
    /** Saliency maps drawn (one per face with the switch on, else 0). */
    saliencyMaps: number;
    faces: { box: FaceResult['box']; score: number; probabilities: number[]; label: number; emotion: string }[];
  };
  error?: string;
  /** The last frame's time per stage, ms. */
  stages?: Record<string, number>;
}
const stageTimes: Record<string, number> = {};
/** The camera's frame rate under which the page looks at a smaller picture (when no ?video-size was given). */
const MIN_CAMERA_FPS = 15;
/** The Tiny Face Detector's input when the camera falls behind at site.json's size. */
const VIDEO_INPUT_SIZE_FAST = 192;
let autoVideoSize = false;
let minCameraFps = MIN_CAMERA_FPS;
const state: FerState = { ready: false, frames: 0 };
(window as unknown as { fer: FerState }).fer = state;

let site: SiteJson;
let models: tf.LayersModel[] = [];
let stream: MediaStream | undefined;
let running = false;
let photo: { bitmap: ImageBitmap; name: string } | undefined;

function showMessage(text: string | undefined): void {
  message.hidden = !text;
  message.textContent = text ?? '';
  if (text) state.error = text;
}

function percent(p: number): string {
  return `${(100 * p).toFixed(p < 0.995 && p >= 0.095 ? 0 : 1)}%`;
}

/** The heat colour of a saliency value 0..1 (black-red-yellow-white), with its opacity. */
function heat(v: number): [number, number, number, number] {
  const r = Math.min(255, 3 * 255 * v);
  const g = Math.min(255, Math.max(0, 3 * 255 * (v - 1 / 3)));
  const b = Math.min(255, Math.max(0, 3 * 255 * (v - 2 / 3)));
  return [r, g, b, Math.round(255 * Math.min(0.85, 0.15 + v))];
}

const heatCanvas = document.createElement('canvas');
heatCanvas.width = 48;
heatCanvas.height = 48;

function drawSaliency(face: FaceResult, map: Float32Array, detector: FaceDetectorName): void {
  const hctx = heatCanvas.getContext('2d')!;
  const img = hctx.createImageData(48, 48);
  for (let i = 0; i < map.length; i++) img.data.set(heat(map[i]), i * 4);
  hctx.putImageData(img, 0, 0);
  // over the square core crops the face from, turned as the eyes are
  const r = cropRegion(face, { detector });
  ctx.save();
  ctx.translate(r.cx, r.cy);
  ctx.rotate(r.angle);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatCanvas, -r.size / 2, -r.size / 2, r.size, r.size);
  ctx.restore();
}

function drawFaces(faces: FaceResult[], maps: (Float32Array | undefined)[], detector: FaceDetectorName): void {
  const line = Math.max(2, Math.round(canvas.width / 320));
  const font = Math.max(12, Math.round(canvas.width / 45));
  for (const [i, f] of faces.entries()) {
    const map = maps[i];
    if (map) drawSaliency(f, map, detector);
    const colour = COLOURS[i % COLOURS.length];
    const { x, y, width, height } = f.box;
    ctx.lineWidth = line;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x, y, width, height);
    const text = `${i + 1} ${site.classes[f.label]} ${percent(f.probabilities[f.label])}`;
    ctx.font = `bold ${font}px system-ui, "DejaVu Sans", sans-serif`;
    const w = ctx.measureText(text).width + font * 0.6;
    const ty = y - font * 1.4 >= 0 ? y - font * 1.4 : y + height;
    ctx.fillStyle = colour;
    ctx.fillRect(x - line / 2, ty, w, font * 1.4);
    ctx.fillStyle = '#111';
    ctx.fillText(text, x + font * 0.3, ty + font * 1.05);
  }
}

function listFaces(faces: FaceResult[]): void {
  const items = faces.map((f, i) => {
    const li = document.createElement('li');
    li.style.setProperty('--face', COLOURS[i % COLOURS.length]);
    li.dataset.emotion = site.classes[f.label];
    const h = document.createElement('h2');
    h.textContent = `Face ${i + 1}: ${site.classes[f.label]}`;
    li.append(h);
    for (const [k, name] of site.classes.entries()) {
      const row = document.createElement('div');
      row.className = k === f.label ? 'bar top' : 'bar';
      const label = document.createElement('span');
      label.textContent = name;
      const track = document.createElement('span');
      track.className = 'track';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.display = 'block';
      fill.style.width = `${(100 * f.probabilities[k]).toFixed(1)}%`;
      track.append(fill);
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = percent(f.probabilities[k]);
      row.append(label, track, pct);
      li.append(row);
    }
    return li;
  });
  if (!faces.length) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'No face found.';
    items.push(li);
  }
  facesList.replaceChildren(...items);
}

/** Finds, classifies and draws the faces on what the canvas holds now. */
async function analyse(source: 'photo' | 'camera'): Promise<void> {
  const detector: FaceDetectorName = source === 'photo' ? site.detector.photo : site.detector.video;
  const t0 = performance.now();
  const faces = await detect(canvas, detector, site, stageTimes);
  const t1 = performance.now();
  const grey = greyAround(
    canvas,
    faces.map((f) => cropRegion(f, { detector })),
  );
  const t2 = performance.now();
  const results = await classify(models, grey, canvas.width, canvas.height, faces, detector, site);
  const t3 = performance.now();
  const maps = saliencySwitch.checked ? smoothGrad(models, results, site, SALIENCY_SAMPLES[source]) : [];
  drawFaces(results, maps, detector);
  listFaces(results);
  const t4 = performance.now();
  stageTimes.detection = t1 - t0 - (stageTimes.landmarks ?? 0);
  stageTimes.grey = t2 - t1;
  stageTimes.classification = t3 - t2;
  stageTimes.drawing = t4 - t3;
  state.stages = { ...stageTimes };
  state.frames++;
  state.firstPrediction ??= performance.now();
  state.result = {
    source,
    width: canvas.width,
    height: canvas.height,
    saliencyMaps: maps.length,
    faces: results.map((f) => ({ box: f.box, score: f.score, probabilities: f.probabilities, label: f.label, emotion: site.classes[f.label] })),
  };
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every analysis already asked for: a photo never mixes with a camera frame still in hand. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn);
  queue = next.catch(() => undefined);
  return next;
}

function showPhoto(): Promise<void> {
  return exclusive(analysePhoto);
}

async function analysePhoto(): Promise<void> {
  if (!photo) return;
  canvas.width = photo.bitmap.width;
  canvas.height = photo.bitmap.height;
  ctx.drawImage(photo.bitmap, 0, 0);
  statusLine.textContent = `${photo.name}: looking for faces…`;
  await analyse('photo');
  const n = state.result?.faces.length ?? 0;
  statusLine.textContent = `${photo.name} (${canvas.width}x${canvas.height}): ${n} face${n === 1 ? '' : 's'} · ${describeSetup()}`;
}

function describeSetup(): string {
  return `${models.length > 1 ? `average of ${models.length} models` : `model ${site.models[0].name}`} · tfjs ${state.backend}`;
}

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|bmp|avif|ico|tiff?)$/i;

async function openFile(file: File): Promise<void> {
  if (!state.ready) return;
  if (!file.type.startsWith('image/') && !IMAGE_NAME.test(file.name)) {
    showMessage(`"${file.name}" is not an image${file.type ? ` (${file.type})` : ''}: open a JPEG, PNG, WebP or GIF photo.`);
    return;
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    showMessage(`"${file.name}" could not be read as an image (damaged, or a format this browser does not decode): open a JPEG, PNG, WebP or GIF photo.`);
    return;
  }
  showMessage(undefined);
  stopCamera();
  photo = { bitmap, name: file.name };
  try {
    await showPhoto();
  } catch (e) {
    showMessage(`Could not analyse "${file.name}": ${(e as Error).message}`);
  }
}

function stopCamera(): void {
  running = false;
  for (const t of stream?.getTracks() ?? []) t.stop();
  stream = undefined;
  video.srcObject = null;
  cameraButton.textContent = 'Start camera';
  fpsLine.textContent = '';
}

function cameraError(e: unknown): string {
  const name = (e as { name?: string }).name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'The camera is blocked for this page: allow camera access (the camera icon in the address bar) and press Start camera again, or open a photo instead.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError')
    return 'No camera was found: connect one and press Start camera again, or open a photo instead.';
  if (name === 'NotReadableError' || name === 'AbortError') return 'The camera is in use by another program or could not start: close that program and press Start camera again.';
  return `The camera could not start (${name || 'error'}: ${(e as Error).message ?? e}).`;
}

async function startCamera(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) {
    showMessage('This browser gives no camera to this page: the camera needs a secure page (https, or http://localhost / 127.0.0.1). Open a photo instead.');
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  } catch (e) {
    showMessage(cameraError(e));
    return;
  }
  showMessage(undefined);
  photo = undefined;
  video.srcObject = stream;
  try {
    await video.play();
  } catch (e) {
    stopCamera();
    showMessage(`The camera's picture could not be shown (${(e as Error).message}).`);
    return;
  }
  cameraButton.textContent = 'Stop camera';
  running = true;
  void cameraLoop();
}

async function cameraLoop(): Promise<void> {
  let count = 0;
  let since = performance.now();
  while (running) {
    if (video.readyState >= 2 && video.videoWidth) {
      try {
        await exclusive(async () => {
          if (!running) return;
          if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
          }
          ctx.drawImage(video, 0, 0);
          await analyse('camera');
        });
      } catch (e) {
        showMessage(`Could not analyse the camera's picture: ${(e as Error).message}`);
        stopCamera();
        return;
      }
      count++;
      const now = performance.now();
      if (now - since >= 1000) {
        state.fps = (1000 * count) / (now - since);
        // On a slower CPU the camera falls under 15 frames/s at 224 px (12.8-16.3 in seven runs on a 2-core Xeon):
        // unless the size was asked for (?video-size=N), look at a smaller picture. 192 px made 16.4-16.5 frames/s
        // there (17.5-19.9 starting at 224 and dropping) and still found both faces of web.test's scene, which
        // 160 px (17-23 frames/s) did not.
        if (autoVideoSize && state.fps < minCameraFps && site.detector.videoInputSize > VIDEO_INPUT_SIZE_FAST) {
          site.detector.videoInputSize = VIDEO_INPUT_SIZE_FAST;
          state.videoInputSize = VIDEO_INPUT_SIZE_FAST;
        }
        fpsLine.textContent = `${state.fps.toFixed(1)} frames/s · ${describeSetup()}`;
        statusLine.textContent = `camera ${canvas.width}x${canvas.height}: ${state.result?.faces.length ?? 0} face(s)`;
        count = 0;
        since = now;
      }
    }
    await nextTurn();
  }
}

const turn = new MessageChannel();
/**
 * Lets the browser paint and handle input before the next frame. While the page is shown that is a task of its
 * own (a message to itself, not requestAnimationFrame: waiting for the next display refresh left the CPU idle
 * for up to 16 ms a frame, about a sixth of the frame rate); in a hidden tab, the next animation frame, which the
 * browser holds back, so a background tab does not keep two cores busy.
 */
function nextTurn(): Promise<void> {
  if (document.hidden) return new Promise((r) => requestAnimationFrame(() => r()));
  return new Promise((r) => {
    turn.port1.onmessage = () => r();
    turn.port2.postMessage(null);
  });
}

cameraButton.addEventListener('click', () => (running ? stopCamera() : void startCamera()));
fileInput.addEventListener('change', () => {
  const file = fileInput.files?.[0];
  if (file) void openFile(file);
  fileInput.value = '';
});
for (const target of [drop, document.body]) {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  target.addEventListener('dragleave', () => drop.classList.remove('over'));
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void openFile(file);
  });
}
saliencySwitch.addEventListener('change', () => {
  if (!running && photo) void showPhoto();
});

async function start(): Promise<void> {
  try {
    const res = await fetch('site.json');
    if (!res.ok) throw new Error(`site.json: HTTP ${res.status}`);
    site = (await res.json()) as SiteJson;
  } catch (e) {
    throw new Error(`the site's description could not be loaded (${(e as Error).message}): serve the page with fer serve or fer export-web`);
  }
  statusLine.textContent = 'Starting tfjs…';
  const query = new URLSearchParams(location.search);
  const backend = await startBackend(site, query.get('backend'));
  // ?video-size=N: the Tiny Face Detector's input on video (a multiple of 32), for trying speed against accuracy
  const size = Number(query.get('video-size'));
  if (Number.isInteger(size) && size >= 96 && size % 32 === 0) site.detector.videoInputSize = size;
  else autoVideoSize = true;
  // ?min-fps=N: the frame rate under which the camera drops to the smaller size (default 15)
  const minFps = Number(query.get('min-fps'));
  if (query.has('min-fps') && minFps > 0 && minFps <= 1000) minCameraFps = minFps;
  state.videoInputSize = site.detector.videoInputSize;
  state.backend = backend.name;
  statusLine.textContent = `Loading the face detector and ${site.models.length > 1 ? `${site.models.length} models` : 'the model'}…`;
  models = await loadModels(site);
  $('about').textContent =
    `Models: ${site.models.map((m) => m.name).join(', ')}. tfjs backend: ${backend.name} (${backend.why}). Faces: face-api (SSD MobileNet on photos, Tiny Face Detector on video), cropped as fer crops them. Nothing leaves this browser.`;
  state.ready = true;
  cameraButton.disabled = false;
  fileInput.disabled = false;
  statusLine.textContent = `Ready: open a photo or start the camera · ${describeSetup()}`;
}

start().catch((e) => {
  statusLine.textContent = 'Not ready';
  showMessage(`The page could not start: ${(e as Error).message}.`);
});
