/**
 * The page's pipeline, as Node's (core's facesInPhoto + predictFaces): face-api finds the faces and their 68
 * landmarks, each face is cropped as core crops it (@fer/core/face: cropRegion, eyes levelled, sampleRegion,
 * 48x48 grey), and the models' softmax probabilities are averaged.
 */
import {
  type CropRegion,
  type DetectedFace,
  type FaceBox,
  type FaceDetectorName,
  IMAGE_SIZE,
  PIXELS_PER_IMAGE,
  boxIoU,
  boxOverlap,
  cropFaceGrey,
  cropRegion,
  greyFromRgb,
} from '@fer/core/face';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
import type { SiteJson } from '../shared/site-json.js';

export interface FaceResult extends DetectedFace {
  /** The ensemble's probability of each class (site.json's classes order). */
  probabilities: number[];
  label: number;
  /** The 48x48 grey input the models saw. */
  input: Uint8Array;
}

export type BackendName = 'webgl' | 'wasm' | 'cpu';

/**
 * The renderer of the browser's WebGL, or undefined without WebGL. A software renderer (SwiftShader, llvmpipe)
 * means no real GPU: there tfjs's WebGL backend is slower than its wasm one (measured in headless Chromium,
 * docs/web.md), so the page takes wasm.
 */
export function webglRenderer(): string | undefined {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  } catch {
    return undefined;
  }
}

/** webgl on a real GPU, else wasm (its .wasm files from the site itself, never a CDN); `?backend=` overrides. */
export async function startBackend(site: SiteJson, wanted?: string | null): Promise<{ name: BackendName; why: string }> {
  setWasmPaths(new URL(site.wasm, document.baseURI).href);
  const renderer = webglRenderer();
  const software = !renderer || /swiftshader|llvmpipe|softpipe|software|mesa offscreen/i.test(renderer);
  const choice: BackendName = wanted === 'webgl' || wanted === 'wasm' || wanted === 'cpu' ? wanted : software ? 'wasm' : 'webgl';
  const why = wanted ? 'asked for in the address (?backend=)' : renderer ? `WebGL renderer: ${renderer}` : 'no WebGL';
  if (await tf.setBackend(choice).catch(() => false)) {
    await tf.ready();
    return { name: choice, why };
  }
  for (const fallback of ['wasm', 'cpu'] as const)
    if (fallback !== choice && (await tf.setBackend(fallback).catch(() => false))) {
      await tf.ready();
      return { name: fallback, why: `${choice} did not start` };
    }
  throw new Error('no tfjs backend could start (webgl, wasm and cpu all failed)');
}

type Net = { loadFromUri(uri: string): Promise<void>; isLoaded: boolean };
const NETS: Record<string, () => Net> = {
  ssd_mobilenetv1_model: () => faceapi.nets.ssdMobilenetv1 as unknown as Net,
  tiny_face_detector_model: () => faceapi.nets.tinyFaceDetector as unknown as Net,
  face_landmark_68_model: () => faceapi.nets.faceLandmark68Net as unknown as Net,
  face_landmark_68_tiny_model: () => faceapi.nets.faceLandmark68TinyNet as unknown as Net,
};
const loading = new Map<string, Promise<void>>();

/** Loads one of face-api's networks from the site (once); the error names its file. */
export function loadNet(site: SiteJson, file: keyof typeof NETS): Promise<void> {
  let p = loading.get(file);
  if (!p) {
    p = NETS[file]()
      .loadFromUri(new URL(site.detector.url, document.baseURI).href)
      .catch((e: Error) => {
        loading.delete(file);
        throw new Error(`the face detector could not be loaded (${site.detector.url}${file}-weights_manifest.json: ${e.message})`);
      });
    loading.set(file, p);
  }
  return p;
}

/** The networks each source needs: photos SSD MobileNet and the full landmarks (as Node), video the tiny ones. */
export const SOURCE_NETS = {
  photo: ['ssd_mobilenetv1_model', 'face_landmark_68_model'],
  camera: ['tiny_face_detector_model', 'face_landmark_68_tiny_model'],
} as const;

/**
 * Loads the models of site.json and the video's detector (the photo's, 5.4 MB, waits for the first photo).
 * Errors name the file.
 */
export async function loadModels(site: SiteJson): Promise<tf.LayersModel[]> {
  await Promise.all(SOURCE_NETS.camera.map((n) => loadNet(site, n)));
  return Promise.all(
    site.models.map(async (m) => {
      try {
        const model = await tf.loadLayersModel(new URL(m.url, document.baseURI).href);
        const shape = model.inputs[0].shape;
        if (shape[1] !== site.input.height || shape[2] !== site.input.width || shape[3] !== site.input.channels)
          throw new Error(`it takes input [${shape.join(', ')}], not ${site.input.height}x${site.input.width}x${site.input.channels}`);
        return model;
      } catch (e) {
        throw new Error(`the model of run "${m.name}" could not be loaded (${m.url}: ${(e as Error).message})`);
      }
    }),
  );
}

function clipBox(b: FaceBox, width: number, height: number): FaceBox {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  return { x, y, width: Math.min(width, b.x + b.width) - x, height: Math.min(height, b.y + b.height) - y };
}

/**
 * The faces of an image (a canvas holding the photo or the video frame), as core's detectFaces finds them on
 * a whole photo: the detector on the RGB pixels, one box per face (IoU over 0.3 or mostly inside another: the
 * same face), highest score first, boxes clipped to the image, then the 68 landmarks of each box's face (on
 * video face-api's tiny landmark net: a quarter of the full one's time, the eye line within a degree or so).
 */
const small = document.createElement('canvas');

/**
 * The picture the detector sees: on video, the frame shrunk to twice the detector's input (the Tiny Face
 * Detector and the landmark net shrink it further anyway; reading and resizing 640x480 cost more than the
 * detection), with the factor back to the frame's pixels; a photo as it is.
 */
function detectorInput(canvas: HTMLCanvasElement, detector: FaceDetectorName, site: SiteJson): { source: HTMLCanvasElement; scale: number } {
  const target = 2 * site.detector.videoInputSize;
  const longest = Math.max(canvas.width, canvas.height);
  if (detector === 'ssd' || longest <= target) return { source: canvas, scale: 1 };
  const k = target / longest;
  small.width = Math.round(canvas.width * k);
  small.height = Math.round(canvas.height * k);
  small.getContext('2d')!.drawImage(canvas, 0, 0, small.width, small.height);
  return { source: small, scale: canvas.width / small.width };
}

export async function detect(canvas: HTMLCanvasElement, detector: FaceDetectorName, site: SiteJson, times: Record<string, number> = {}): Promise<DetectedFace[]> {
  await Promise.all(SOURCE_NETS[detector === 'ssd' ? 'photo' : 'camera'].map((n) => loadNet(site, n)));
  const { source, scale } = detectorInput(canvas, detector, site);
  const { width, height } = source;
  const photo = tf.browser.fromPixels(source);
  try {
    const options =
      detector === 'ssd'
        ? new faceapi.SsdMobilenetv1Options({ minConfidence: site.detector.minScore.ssd, maxResults: 100 })
        : new faceapi.TinyFaceDetectorOptions({ inputSize: site.detector.videoInputSize, scoreThreshold: site.detector.minScore.tiny });
    const found = (await faceapi.detectAllFaces(photo as never, options)) as { box: FaceBox; score: number }[];
    const kept: DetectedFace[] = [];
    for (const d of [...found].sort((a, b) => b.score - a.score)) {
      const box = { x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height };
      if (kept.some((k) => boxIoU(k.box, box) > 0.3 || boxOverlap(k.box, box) > 0.6 * Math.min(k.box.width * k.box.height, box.width * box.height))) continue;
      kept.push({ box, score: d.score });
    }
    const faces = kept.map((f) => ({ ...f, box: clipBox(f.box, width, height) })).filter((f) => f.box.width >= 1 && f.box.height >= 1);
    const t = performance.now();
    if (faces.length) {
      const rects = faces.map((f) => new faceapi.Rect(f.box.x, f.box.y, f.box.width, f.box.height));
      const crops = await faceapi.extractFaceTensors(photo as never, rects);
      try {
        for (const [i, crop] of crops.entries()) {
          const net = detector === 'ssd' ? faceapi.nets.faceLandmark68Net : faceapi.nets.faceLandmark68TinyNet;
          const lm = (await net.detectLandmarks(crop)) as faceapi.FaceLandmarks68;
          faces[i].landmarks = lm.shiftBy(faces[i].box.x, faces[i].box.y).positions.map((p) => ({ x: p.x * scale, y: p.y * scale }));
        }
      } finally {
        for (const c of crops) (c as unknown as tf.Tensor).dispose();
      }
    }
    times.landmarks = performance.now() - t;
    for (const f of faces) f.box = { x: f.box.x * scale, y: f.box.y * scale, width: f.box.width * scale, height: f.box.height * scale };
    return faces;
  } finally {
    photo.dispose();
  }
}

/**
 * The canvas's pixels as grey bytes, the way sharp makes them grey in Node (greyFromRgb), but only where the
 * crops will sample: within each region's turned square (its circumscribed box, clipped to the canvas, which
 * also holds the edge pixels a crop past the border repeats). Elsewhere the array is 0 and never read, so the
 * crops are the same as from the whole picture's grey; on a 640x480 camera frame this is ~1 ms, not ~6.
 */
export function greyAround(canvas: HTMLCanvasElement, regions: CropRegion[]): Uint8Array {
  const { width, height } = canvas;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const grey = new Uint8Array(width * height);
  for (const r of regions) {
    const reach = (r.size * Math.SQRT2) / 2 + 2;
    const x0 = Math.max(0, Math.floor(r.cx - reach));
    const y0 = Math.max(0, Math.floor(r.cy - reach));
    const x1 = Math.min(width, Math.ceil(r.cx + reach));
    const y1 = Math.min(height, Math.ceil(r.cy + reach));
    if (x1 <= x0 || y1 <= y0) continue;
    const w = x1 - x0;
    const part = greyFromRgb(ctx.getImageData(x0, y0, w, y1 - y0).data, w, y1 - y0, 4);
    for (let y = y0; y < y1; y++) grey.set(part.subarray((y - y0) * w, (y - y0 + 1) * w), y * width + x0);
  }
  return grey;
}

function inputTensor(crops: Uint8Array[], scale: number): tf.Tensor4D {
  const x = new Float32Array(crops.length * PIXELS_PER_IMAGE);
  for (const [i, c] of crops.entries()) for (let k = 0; k < PIXELS_PER_IMAGE; k++) x[i * PIXELS_PER_IMAGE + k] = c[k] * scale;
  return tf.tensor4d(x, [crops.length, IMAGE_SIZE, IMAGE_SIZE, 1]);
}

/** Each face cropped (as core crops for this detector) and classified: the models' softmax, averaged. */
export async function classify(
  models: tf.LayersModel[],
  grey: Uint8Array,
  width: number,
  height: number,
  faces: DetectedFace[],
  detector: FaceDetectorName,
  site: SiteJson,
): Promise<FaceResult[]> {
  if (!faces.length) return [];
  const crops = faces.map((f) => cropFaceGrey(grey, width, height, f, { detector }));
  const probs = tf.tidy(() => {
    const x = inputTensor(crops, site.input.scale);
    const each = models.map((m) => tf.softmax(m.predict(x) as tf.Tensor2D));
    return each.length === 1 ? each[0] : tf.div(tf.addN(each), each.length);
  });
  const p = (await probs.array()) as number[][];
  probs.dispose();
  return faces.map((f, i) => ({ ...f, probabilities: p[i], label: p[i].indexOf(Math.max(...p[i])), input: crops[i] }));
}

/**
 * Kernels that tfjs's fused convolution asks for while computing an input gradient and throws away: the wasm
 * backend has none for the filter's gradient (core adds its own in Node, not here). While a saliency map is
 * computed they stand in as zeros of the right shape (their values are never used: tf.grad keeps only the
 * gradient with respect to the face), then are removed again.
 */
const DISCARDED_GRADIENTS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'];

function withDiscardedGradientStubs<T>(fn: () => T): T {
  const added: string[] = [];
  for (const kernelName of DISCARDED_GRADIENTS)
    if (!tf.getKernel(kernelName, 'wasm')) {
      tf.registerKernel({
        kernelName,
        backendName: 'wasm',
        kernelFunc: ({ attrs, backend }) => {
          const shape = (attrs as { filterShape: number[] }).filterShape;
          return (backend as unknown as { makeOutput(shape: number[], dtype: string): tf.TensorInfo }).makeOutput(shape, 'float32');
        },
      });
      added.push(kernelName);
    }
  try {
    return fn();
  } finally {
    for (const kernelName of added) tf.unregisterKernel(kernelName, 'wasm');
  }
}

/**
 * SmoothGrad (as core's analysis/attribution/smoothgrad.ts): the gradient of the face's top class's logit
 * (summed over the models) with respect to the 48x48 input, averaged over `samples` copies with Gaussian
 * noise of 0.15 of the input range, then its magnitude. One map per face, 48x48, scaled to 0..1.
 */
export function smoothGrad(models: tf.LayersModel[], faces: FaceResult[], site: SiteJson, samples: number): Float32Array[] {
  return withDiscardedGradientStubs(() =>
    faces.map((face) => {
      const map = tf.tidy(() => {
        const x = inputTensor([face.input], site.input.scale);
        const noisy = tf.add(tf.tile(x, [samples, 1, 1, 1]), tf.randomNormal([samples, IMAGE_SIZE, IMAGE_SIZE, 1], 0, 0.15));
        // the chosen logit as a sum against a one-hot row (gather's gradient needs a kernel wasm lacks)
        const pick = tf.oneHot([face.label], site.classes.length).toFloat();
        const f = (input: tf.Tensor) => tf.addN(models.map((m) => tf.sum(tf.mul(m.apply(input, { training: false }) as tf.Tensor2D, pick))));
        const m = tf.abs(tf.mean(tf.grad(f)(noisy), 0));
        return tf.div(m, tf.add(tf.max(m), 1e-12));
      });
      const out = map.dataSync() as Float32Array;
      map.dispose();
      return out;
    }),
  );
}

/** Where core crops a face, for drawing the saliency map back over it. */
export { cropRegion };
