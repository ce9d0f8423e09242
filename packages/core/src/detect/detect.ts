import { readImageFile } from '../data/images.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { FerError } from '../errors.js';
import { readModelFiles } from '../rundir/model-files.js';
import { BLAZE_INPUT, decodeBlaze } from './blaze.js';
import { DEFAULT_MIN_SCORE, FACE_DETECTORS, type DetectedFace, type FaceBox, type FaceDetectorName, type Point, boxIoU, boxOverlap } from './geometry.js';

// face-api's types describe its own bundled tfjs; only the few calls below are used, typed here.
type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');

/** Pixels of a photo: `channels` interleaved bytes per pixel (1 grey, 3 RGB, 4 RGBA), row by row. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

// Boxes, landmarks and the detectors' names are pure data shared with the browser page (`@fer/core/face`).
export { DEFAULT_MIN_SCORE, FACE_DETECTORS, boxIoU, type DetectedFace, type FaceBox, type FaceDetectorName, type Point } from './geometry.js';

export interface DetectOptions {
  /**
   * `ssd` (default): face-api's SSD MobileNet v1, the more accurate (on face-api's six demo photos it finds
   * all 22 faces, tiny 20) and about twice as slow; `tiny`: its Tiny Face Detector; `blaze`: MediaPipe's
   * BlazeFace (from @vladmandic/human), which finds faces cut at the brow and chin as FER2013's are but also
   * face-like things in cluttered photos; `ssd+blaze`: ssd's faces, and BlazeFace's faces at 0.7 or more
   * where SSD boxed the same place at 0.02 or more (it gets the faces cut close that SSD scores low).
   */
  detector?: FaceDetectorName;
  /** The lowest detector score kept (default DEFAULT_MIN_SCORE: 0.2 for ssd, 0.5 for tiny). */
  minScore?: number;
  /** Find the 68 landmarks of each face too (default true): cropFace levels the eyes with them. */
  landmarks?: boolean;
  /**
   * The smallest face, in pixels of the photo, to look for (default 64). The detectors see a photo shrunk
   * to 512 px (ssd; tiny 416) and miss many faces under about 40 px there; when a face of this size would be
   * smaller than that, the photo is also searched tile by tile (overlapping tiles, each shrunk less: 6 more
   * passes for a 1920x1280 photo, 35 for 4000x3000). 0 searches the whole photo only.
   */
  minFaceSize?: number;
  /**
   * Also search the photo mirrored left to right, and keep the faces either pass finds (default false): the
   * detectors are not symmetric, and a face one side scores under minScore the other side may score over it.
   * Doubles the detection time.
   */
  mirror?: boolean;
  /**
   * When `ssd` (the default detector) finds no face in the photo, search it once more before saying there is
   * none (default true): the photo with a grey margin of a quarter of its longer side all round, whole (no
   * tiles), as `ssd+blaze` with the mirrored pass. SSD finds almost no face that fills the photo, as a face
   * cropped close (a FER2013-style crop of over 128 px) does: on the 22 faces of face-api's demo photos cut to
   * SSD's own boxes and resized to 200x200 grey it found 2, this search 21 (docs/web.md). It costs time only on photos where SSD finds nothing (two SSD
   * and two BlazeFace passes); false for SSD alone. Ignored for other detectors.
   */
  retry?: boolean;
  /** The most faces returned, highest scores first (default 100). */
  maxFaces?: number;
  /** Where face-api's weights are (default: the `model` folder of the installed @vladmandic/face-api). */
  modelDir?: string;
  /** Where BlazeFace's weights are (default: the `models` folder of the installed @vladmandic/human). */
  blazeDir?: string;
}

const require = createRequire(import.meta.url);

/** The `model` folder inside the installed @vladmandic/face-api package: the weights ship with it. */
export function faceModelDir(): string {
  try {
    return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  } catch {
    throw new FerError('the face detector is not installed (@vladmandic/face-api not found)', { hint: 'run pnpm install (it is a dependency of @fer/core)' });
  }
}

let faceapi: FaceApi | undefined;
const loaded = new Map<string, Promise<void>>();

const MODEL_FILES: Record<'ssd' | 'tiny' | 'landmarks', string> = {
  ssd: 'ssd_mobilenetv1_model',
  tiny: 'tiny_face_detector_model',
  landmarks: 'face_landmark_68_model',
};

/**
 * face-api's build for Node that uses the caller's @tensorflow/tfjs (dist/face-api.node-wasm.js: it requires
 * `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm`, not its own bundled tfjs and not tfjs-node), so it
 * runs on the backend `selectBackend` started, fer's wasm kernels included.
 */
function faceApi(): FaceApi {
  if (!faceapi) {
    faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    if ((faceapi.tf as unknown as typeof tf).engine() !== tf.engine())
      throw new FerError('@vladmandic/face-api loaded a different @tensorflow/tfjs than fer', { hint: 'install one @tensorflow/tfjs (pnpm dedupe)' });
  }
  return faceapi;
}

/** Loads one of face-api's networks from the weights on disk (once per folder). */
async function loadNet(name: 'ssd' | 'tiny' | 'landmarks', modelDir: string): Promise<void> {
  const key = `${name}:${modelDir}`;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const manifest = path.join(modelDir, `${MODEL_FILES[name]}-weights_manifest.json`);
      if (!existsSync(manifest))
        throw new FerError(`the face detector's weights are missing: ${manifest} does not exist`, {
          hint: 'reinstall @vladmandic/face-api 1.7.15 (pnpm install), whose model/ folder holds them, or point modelDir at a copy',
        });
      const api = faceApi();
      const net = name === 'ssd' ? api.nets.ssdMobilenetv1 : name === 'tiny' ? api.nets.tinyFaceDetector : api.nets.faceLandmark68Net;
      try {
        await net.loadFromDisk(modelDir);
      } catch (e) {
        throw new FerError(`cannot load the face detector's weights from ${modelDir} (${(e as Error).message.split('\n')[0]})`, { hint: 'reinstall @vladmandic/face-api' });
      }
    })();
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/** The `models` folder of the installed @vladmandic/human: BlazeFace's weights (models/blazeface.json and .bin). */
export function blazeModelDir(): string {
  try {
    // the package's exports name no package.json: its Node entry is dist/human.node.js
    return path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
  } catch {
    throw new FerError('BlazeFace is not installed (@vladmandic/human not found)', { hint: 'run pnpm install (it is a dependency of @fer/core)' });
  }
}

const blazeModels = new Map<string, Promise<tf.GraphModel>>();

/** BlazeFace's graph model from `dir` (once per folder). */
function loadBlaze(dir: string): Promise<tf.GraphModel> {
  let p = blazeModels.get(dir);
  if (!p) {
    p = (async () => {
      const json = path.join(dir, 'blazeface.json');
      const reinstall = 'reinstall @vladmandic/human 3.3.6 (pnpm install), whose models/ folder holds them';
      if (!existsSync(json)) throw new FerError(`BlazeFace's weights are missing: ${json} does not exist`, { hint: reinstall });
      const artifacts = await readModelFiles(json, { notModel: reinstall, missing: reinstall, truncated: reinstall });
      try {
        return await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      } catch (e) {
        throw new FerError(`cannot load BlazeFace from ${dir} (${(e as Error).message.split('\n')[0]})`, { hint: reinstall });
      }
    })();
    p.catch(() => blazeModels.delete(dir));
    blazeModels.set(dir, p);
  }
  return p;
}

/**
 * BlazeFace on one region of the photo (int32 RGB, height x width x 3): padded to a square at its bottom and
 * right, shrunk to 256x256. Boxes and eyes in the region's pixels.
 */
async function blazeDetect(model: tf.GraphModel, part: tf.Tensor3D, minScore: number): Promise<{ box: FaceBox; score: number; eyes: [Point, Point] }[]> {
  const [h, w] = part.shape;
  const side = Math.max(h, w);
  const [scores, regressors] = tf.tidy(() => {
    let x = part.toFloat();
    if (h < side || w < side)
      x = tf.pad(x, [
        [0, side - h],
        [0, side - w],
        [0, 0],
      ]);
    const input = tf.image
      .resizeBilinear(x as tf.Tensor3D, [BLAZE_INPUT, BLAZE_INPUT])
      .div(127.5)
      .sub(1)
      .expandDims(0);
    // smallest first: the 8x8 grid's scores, the 16x16's, the 8x8's regressors, the 16x16's
    const out = [...(model.execute(input) as tf.Tensor[])].sort((a, b) => a.size - b.size);
    return [tf.concat([out[1].reshape([-1]), out[0].reshape([-1])]), tf.concat([out[3].reshape([-1]), out[2].reshape([-1])])];
  });
  try {
    const k = side / BLAZE_INPUT;
    const at = (p: Point): Point => ({ x: p.x * k, y: p.y * k });
    return decodeBlaze(await scores.data(), await regressors.data(), minScore).map((d) => ({
      score: d.score,
      box: { x: d.box.x * k, y: d.box.y * k, width: d.box.width * k, height: d.box.height * k },
      eyes: [at(d.eyes[0]), at(d.eyes[1])],
    }));
  } finally {
    scores.dispose();
    regressors.dispose();
  }
}

/**
 * A photo file as RGB bytes, turned upright by its EXIF orientation (as a viewer shows it, and as
 * `--annotate` draws on it). A missing or unreadable file is a FerError naming it.
 */
export async function loadPhoto(file: string): Promise<RawImage> {
  return decodePhoto(await readImageFile(file), file);
}

/**
 * An image's encoded bytes (JPEG, PNG, WebP, GIF, TIFF) as RGB, upright by its EXIF orientation, as loadPhoto
 * reads a file; bytes that are not a readable image (or are cut short) are a FerError naming `source`.
 */
export async function decodePhoto(buf: Uint8Array, source: string): Promise<RawImage> {
  try {
    const { data, info } = await sharp(buf).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`${info.channels} channels after removing alpha`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
  } catch (e) {
    throw new FerError(`${source} is not a readable image (${(e as Error).message.split('\n')[0]})`, { hint: 'use a JPEG, PNG, WebP, GIF or TIFF file' });
  }
}

function checkImage(image: RawImage): void {
  const { width, height, channels, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || ![1, 3, 4].includes(channels) || data.length !== width * height * channels)
    throw new FerError(`not an image: ${width}x${height}x${channels} needs ${width * height * channels} bytes, got ${data.length}`);
}

/** The RGB bytes of `image` (grey copied to the three channels, alpha dropped). */
export function toRgb(image: RawImage): Uint8Array {
  checkImage(image);
  if (image.channels === 3) return image.data;
  const n = image.width * image.height;
  const out = new Uint8Array(n * 3);
  const c = image.channels;
  for (let i = 0; i < n; i++) {
    const s = i * c;
    out[i * 3] = image.data[s];
    out[i * 3 + 1] = image.data[c === 1 ? s : s + 1];
    out[i * 3 + 2] = image.data[c === 1 ? s : s + 2];
  }
  return out;
}

/** The input size a detector shrinks the photo (or a tile) to: its longer side. */
const DETECTOR_INPUT: Record<SingleDetector, number> = { ssd: 512, tiny: 416, blaze: BLAZE_INPUT };

/**
 * ssd+blaze: BlazeFace's lowest score for a face SSD did not find at its minimum score, and SSD's lowest
 * score at the same place that confirms it. On face-api's six demo photos BlazeFace's detections away from
 * the 22 faces scored at most 0.695, and SSD boxed most of those places at 0.02-0.10, so SSD's low scores alone do not
 * tell faces from face-like things; on 500 FER2013 validation faces pasted on canvases the 15 faces SSD misses
 * (0.2, mirrored pass) scored 0.52-0.84 by BlazeFace (7 at 0.7 or more) and 0.03-0.20 by SSD.
 */
const RESCUE = { blaze: 0.7, confirm: 0.02 };
/** About the smallest face, in the detector's input pixels, it finds reliably. */
const SMALLEST_SEEN = 40;
/** The face size, in the detector's input pixels, whose boxes are the tightest. */
const BEST_SEEN = 80;

interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  /** A tile's: the largest face it keeps (its overlap with its neighbours); larger ones are the whole photo's. */
  maxFace?: number;
}

/**
 * The parts of a width x height photo to search: the whole photo, and, when a face of `minFace` pixels would
 * shrink below what the detector sees, overlapping square tiles small enough that it does not. Neighbouring
 * tiles overlap by a quarter more than the largest face the whole-photo pass may miss (at most a third of a
 * tile), so that every such face lies whole in one tile.
 */
export function searchRegions(width: number, height: number, minFace: number, detector: SingleDetector = 'ssd'): Region[] {
  const whole = { x: 0, y: 0, width, height };
  const input = DETECTOR_INPUT[detector];
  if (minFace <= 0 || (minFace * input) / Math.max(width, height) >= SMALLEST_SEEN) return [whole];
  const tile = Math.max(input, Math.round((input * minFace) / SMALLEST_SEEN));
  const overlap = Math.min(tile / 3, Math.ceil((1.25 * SMALLEST_SEEN * Math.max(width, height)) / input));
  const starts = (len: number) => {
    if (len <= tile) return [0];
    const n = Math.ceil((len - tile) / (tile - overlap)) + 1;
    return Array.from({ length: n }, (_, i) => Math.round((i * (len - tile)) / (n - 1)));
  };
  const tiles: Region[] = [];
  for (const y of starts(height)) for (const x of starts(width)) tiles.push({ x, y, width: Math.min(tile, width), height: Math.min(tile, height), maxFace: overlap });
  return [whole, ...tiles];
}

/**
 * Every face in `image` (RGB, grey or RGBA bytes), highest score first: its box in the photo's pixels, the
 * detector's score and, unless `landmarks: false`, its 68 landmarks. Runs face-api's detector offline (weights
 * from the installed package) on the current tfjs backend: call `selectBackend` first.
 */
export async function detectFaces(image: RawImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
  const rgb = toRgb(image);
  const detector = options.detector ?? 'ssd';
  if (!FACE_DETECTORS.includes(detector)) throw new FerError(`unknown face detector "${detector}"`, { hint: `choose one of: ${FACE_DETECTORS.join(', ')}` });
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE[detector];
  if (!(minScore > 0 && minScore < 1)) throw new FerError(`the detector's minimum score must be between 0 and 1 (got ${minScore})`);
  const modelDir = options.modelDir ?? faceModelDir();
  const withLandmarks = options.landmarks ?? true;
  const blaze = detector === 'blaze' || detector === 'ssd+blaze' ? await loadBlaze(options.blazeDir ?? blazeModelDir()) : undefined;
  if (detector === 'ssd' || detector === 'ssd+blaze') await loadNet('ssd', modelDir);
  if (detector === 'tiny') await loadNet('tiny', modelDir);
  if (withLandmarks) await loadNet('landmarks', modelDir);
  const api = faceApi();
  const { width, height } = image;
  const photo = tf.tensor3d(rgb, [height, width, 3], 'int32');
  try {
    let kept =
      detector === 'ssd+blaze' ? await ssdAndBlaze(photo, minScore, options, blaze as tf.GraphModel) : mergeFaces(await searchPhoto(photo, detector, minScore, options, blaze));
    if (!kept.length && detector === 'ssd' && (options.retry ?? true)) kept = await searchWithMargin(photo, minScore, await loadBlaze(options.blazeDir ?? blazeModelDir()));
    const faces = kept
      .sort((a, b) => b.score - a.score)
      .map((f) => ({ ...f, box: clipBox(f.box, width, height) }))
      .filter((f) => f.box.width >= 1 && f.box.height >= 1)
      .slice(0, options.maxFaces ?? 100);
    if (withLandmarks && faces.length) {
      const rects = faces.map((f) => new api.Rect(f.box.x, f.box.y, f.box.width, f.box.height));
      const crops = await api.extractFaceTensors(photo as never, rects);
      try {
        for (const [i, crop] of crops.entries()) {
          const lm = (await api.nets.faceLandmark68Net.detectLandmarks(crop)) as InstanceType<FaceApi['FaceLandmarks68']>;
          faces[i].landmarks = lm.shiftBy(faces[i].box.x, faces[i].box.y).positions.map((p) => ({ x: p.x, y: p.y }));
        }
      } finally {
        tf.dispose(crops as never);
      }
    }
    return faces;
  } finally {
    photo.dispose();
  }
}

/**
 * ssd+blaze: SSD's faces as `ssd` finds them; then BlazeFace's faces that SSD has no face at, kept where SSD also
 * boxed them at a low score (two detectors that agree): the tight crops SSD scores low.
 */
async function ssdAndBlaze(photo: tf.Tensor3D, minScore: number, options: DetectOptions, blaze: tf.GraphModel): Promise<DetectedFace[]> {
  const ssd = await searchPhoto(photo, 'ssd', Math.min(minScore, RESCUE.confirm), options);
  const kept = mergeFaces(ssd.filter((f) => f.score >= minScore));
  const confirmers = ssd.filter((f) => !f.edge);
  for (const b of mergeFaces(await searchPhoto(photo, 'blaze', RESCUE.blaze, options, blaze)))
    if (!kept.some((k) => sameFace(k.box, b.box)) && confirmers.some((f) => sameFace(f.box, b.box))) kept.push(b);
  return kept;
}

/** The retry's grey margin around a photo where SSD found no face, in its longer side (on face-api's 22 demo faces cut close: 0.25 found 21, 0.5 20, none 18). */
const RETRY_MARGIN = 0.25;

/** The photo in a grey margin, whole, by ssd+blaze with the mirrored pass: its faces in the photo's pixels (clipped later). */
async function searchWithMargin(photo: tf.Tensor3D, minScore: number, blaze: tf.GraphModel): Promise<DetectedFace[]> {
  const [height, width] = photo.shape;
  const m = Math.round(RETRY_MARGIN * Math.max(width, height));
  const padded = tf.pad(
    photo,
    [
      [m, m],
      [m, m],
      [0, 0],
    ],
    128,
  );
  try {
    const faces = await ssdAndBlaze(padded, minScore, { mirror: true, minFaceSize: 0 }, blaze);
    return faces.map((f) => ({
      ...f,
      box: { ...f.box, x: f.box.x - m, y: f.box.y - m },
      ...(f.eyes ? { eyes: f.eyes.map((p) => ({ x: p.x - m, y: p.y - m })) as [Point, Point] } : {}),
    }));
  } finally {
    padded.dispose();
  }
}

/** The detectors that search a photo on their own (ssd+blaze combines two of them). */
type SingleDetector = Exclude<FaceDetectorName, 'ssd+blaze'>;

/** Boxes of the same face: IoU over 0.3, or one mostly inside the other. */
function sameFace(a: FaceBox, b: FaceBox): boolean {
  return boxIoU(a, b) > 0.3 || boxOverlap(a, b) > 0.6 * Math.min(a.width * a.height, b.width * b.height);
}

/**
 * face-api's SSD MobileNet v1 on one image: what `detectAllFaces` with `SsdMobilenetv1Options({ minConfidence:
 * minScore, maxResults })` returns (boxes in the image's pixels), but with tfjs's non-max suppression (greedy,
 * IoU over 0.5 suppressed, scores over minScore, as face-api's). face-api's own reads the whole 5,118-box tensor
 * back into nested arrays for every pair of boxes it compares: on face-api's 1920x1280 demo photo, whole photo
 * and tiles, SSD at score 0.02 (ssd+blaze's confirmation) took 36 s that way and 3.3-3.5 s this way.
 */
export async function ssdDetect(image: tf.Tensor3D, minScore: number, maxResults = 1000): Promise<{ box: FaceBox; score: number }[]> {
  const api = faceApi();
  const input = await api.toNetInput(image as never);
  const { boxes, scores } = api.nets.ssdMobilenetv1.forwardInput(input) as unknown as { boxes: tf.Tensor2D[]; scores: tf.Tensor1D[] };
  try {
    const keep = await tf.image.nonMaxSuppressionAsync(boxes[0], scores[0], maxResults, 0.5, minScore);
    const kept = keep.dataSync();
    keep.dispose();
    const b = boxes[0].dataSync();
    const s = scores[0].dataSync();
    // face-api's locateFaces: box corners (top, left, bottom, right) relative to the padded square input,
    // clipped to [0, 1], then scaled to the image (its padding is on the right and bottom).
    const dims = input.getReshapedInputDimensions(0);
    const size = input.inputSize ?? 512; // set by forwardInput
    const kx = (size / dims.width) * input.getInputWidth(0);
    const ky = (size / dims.height) * input.getInputHeight(0);
    const faces: { box: FaceBox; score: number }[] = [];
    for (const i of kept) {
      const top = Math.max(0, b[4 * i]) * ky;
      const left = Math.max(0, b[4 * i + 1]) * kx;
      const bottom = Math.min(1, b[4 * i + 2]) * ky;
      const right = Math.min(1, b[4 * i + 3]) * kx;
      if (right > left && bottom > top) faces.push({ score: s[i], box: { x: left, y: top, width: right - left, height: bottom - top } });
    }
    return faces;
  } finally {
    tf.dispose([...boxes, ...scores]);
  }
}

/** One detector over the photo's regions (whole photo and tiles, mirrored too if asked): every detection, for mergeFaces. */
async function searchPhoto(photo: tf.Tensor3D, detector: SingleDetector, minScore: number, options: DetectOptions, blaze?: tf.GraphModel): Promise<Candidate[]> {
  const api = faceApi();
  const [height, width] = photo.shape;
  const found: Candidate[] = [];
  const detect = async (t: tf.Tensor3D): Promise<{ box: FaceBox; score: number; eyes?: [Point, Point] }[]> =>
    detector === 'blaze' && blaze
      ? blazeDetect(blaze, t, minScore)
      : detector === 'ssd'
        ? ssdDetect(t, minScore)
        : (await api.detectAllFaces(t as never, new api.TinyFaceDetectorOptions({ inputSize: DETECTOR_INPUT.tiny, scoreThreshold: minScore }))).map((d) => ({
            score: d.score,
            box: d.box as FaceBox,
          }));
  for (const r of searchRegions(width, height, options.minFaceSize ?? 64, detector)) {
    const whole = r.width === width && r.height === height;
    const part = whole ? photo : tf.slice(photo, [r.y, r.x, 0], [r.height, r.width, 3]);
    const flipped = options.mirror ? tf.reverse(part, 1) : undefined;
    try {
      const dets = await detect(part);
      if (flipped)
        for (const d of await detect(flipped)) {
          // back to the unmirrored region's pixels (the mirror image's right eye is the face's left)
          const unflip = (p: Point): Point => ({ x: r.width - p.x, y: p.y });
          dets.push({
            score: d.score,
            box: { x: r.width - d.box.x - d.box.width, y: d.box.y, width: d.box.width, height: d.box.height },
            eyes: d.eyes && [unflip(d.eyes[1]), unflip(d.eyes[0])],
          });
        }
      for (const d of dets) {
        const b = d.box;
        const box = { x: r.x + b.x, y: r.y + b.y, width: b.width, height: b.height };
        // A tile keeps no face its inner edges cut (every face up to its overlap with its neighbours lies whole
        // in one tile), and none over half its side (a face that big the whole photo's pass sees well, and a
        // tile may hold only part of it). Faces between the two are kept where a tile holds them whole: the
        // whole photo's pass, which shrinks them to 60-100 detector pixels, scored many faces of about 190 px on
        // a 1280x960 photo under 0.5 (packages/bench/src/detection.ts: 14 of 19 found at 0.5 before).
        const m = Math.max(2, 0.02 * Math.max(r.width, r.height));
        const cut =
          (r.x > 0 && b.x < m) || (r.y > 0 && b.y < m) || (r.x + r.width < width && b.x + b.width > r.width - m) || (r.y + r.height < height && b.y + b.height > r.height - m);
        const big = Math.max(b.width, b.height) > Math.max(r.maxFace ?? Number.POSITIVE_INFINITY, Math.min(r.width, r.height) / 2);
        const eyes = d.eyes && (d.eyes.map((p) => ({ x: r.x + p.x, y: r.y + p.y })) as [Point, Point]);
        found.push({ box, score: d.score, detector, ...(eyes ? { eyes } : {}), edge: !whole && (cut || big), scale: DETECTOR_INPUT[detector] / Math.max(r.width, r.height) });
      }
    } finally {
      if (part !== photo) part.dispose();
      flipped?.dispose();
    }
  }
  return found;
}

/** A detection of one pass: `edge` when a tile cut it or it is too big for the tile; `scale`: the pass's shrink. */
type Candidate = DetectedFace & { edge: boolean; scale: number };

/**
 * One box per face from all passes' candidates. Which pass's box: the pass that saw the face nearest BEST_SEEN
 * pixels across (measured on pasted faces: the whole photo's boxes of faces under about 50 detector pixels, and
 * tiles' of faces over about 120, are the loosest).
 */
function mergeFaces(found: Candidate[]): DetectedFace[] {
  const seen = (f: Candidate) => Math.abs(Math.log((Math.max(f.box.width, f.box.height) * f.scale) / BEST_SEEN));
  const kept: DetectedFace[] = [];
  for (const { edge, scale, ...f } of found.filter((f) => !f.edge).sort((a, b) => seen(a) - seen(b) || b.score - a.score))
    if (!kept.some((k) => sameFace(k.box, f.box))) kept.push(f);
  return kept;
}

function clipBox(b: FaceBox, width: number, height: number): FaceBox {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  return { x, y, width: Math.min(width, b.x + b.width) - x, height: Math.min(height, b.y + b.height) - y };
}
