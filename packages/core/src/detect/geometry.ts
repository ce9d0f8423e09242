/**
 * The pure part of face detection and cropping: boxes, landmarks, where a face's FER2013-like crop lies, and
 * the pixel work that turns a photo's square into the 48x48 grey input. No tfjs, no sharp, no node: the page
 * of @fer/web uses these through `@fer/core/face`, Node's pipeline (crop.ts, detect.ts) through core.
 */
import { IMAGE_SIZE } from '../classes.js';

/** A rectangle in pixels of the photo: (x, y) its top-left corner. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface DetectedFace {
  box: FaceBox;
  /** The detector's confidence, 0..1. */
  score: number;
  /** The 68 landmarks (iBUG order: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67) in photo pixels, when asked for. */
  landmarks?: Point[];
  /** The eyes' centres from the detector itself (BlazeFace): the face's right eye (left in the photo), then its left. */
  eyes?: [Point, Point];
  /** Which detector's box this is (its crop ratios in FACE_CROP); the options' detector when absent. */
  detector?: FaceDetectorName;
}

export const FACE_DETECTORS = ['ssd', 'tiny', 'blaze', 'ssd+blaze'] as const;
export type FaceDetectorName = (typeof FACE_DETECTORS)[number];

/**
 * The lowest detector score taken as a face, by detector: `fer predict --min-score`, POST /predict's
 * `min-score` and the page's default.
 * - ssd: 0.2. FER2013's faces are cut at the brow and the chin, and SSD MobileNet scores many of them under
 *   0.5: pasted on canvases at 96-200 px (packages/bench/src/pipeline.ts, 500 faces of a run's validation
 *   part) it found 84.8% at 0.5, 93.6% at 0.3, 95.2% at 0.2, 96.2% at 0.15 and 97.6% at 0.1, with no detection
 *   off the faces down to 0.2, 2 at 0.15 and 8 at 0.1. On face-api's six demo photos (22 people) it finds the
 *   same 22 faces at every score from 0.5 to 0.15 (packages/bench/src/demo_photos.ts). face-api's own demos
 *   use 0.1-0.3.
 * - tiny: 0.5, face-api's own default (the page's camera).
 * - blaze: 0.5. BlazeFace finds 498 of the 500 validation faces above (none off the faces), but on face-api's
 *   six demo photos it also boxes 13 things that are not faces at 0.5 (a door lock with two screws and a
 *   handle, at 0.69), so it is not for photos.
 * - ssd+blaze: ssd's score; BlazeFace's extra faces need 0.7 (its highest off a face on the demo photos: 0.695).
 */
export const DEFAULT_MIN_SCORE: Record<FaceDetectorName, number> = { ssd: 0.2, tiny: 0.5, blaze: 0.5, 'ssd+blaze': 0.2 };

/**
 * How a detector's box becomes a FER2013-like crop: a square of side `scale` times the box's mean side
 * ((width + height) / 2), centred `shiftY` box heights below the box's centre (along the face's own downward
 * direction), turned so that the eyes are level when landmarks are known.
 *
 * Chosen by eye: the 22 faces of face-api's six demo photos, detected, aligned and cropped at scale 0.9, 1.0,
 * 1.1, 1.2 and 1.3 (shift 0.05), and at 1.1 with shifts 0, 0.05 and 0.1, set beside FER2013's look (the face
 * fills the frame: brows about a quarter from the top, eyes a little above the middle, chin at the bottom edge,
 * ears at most partly in).
 * - ssd (SSD MobileNet) boxes run from the forehead, above the brows, to the chin and are narrower than tall
 *   (about 0.75). At 0.9-1.0 the crop cuts the chin and the sides of the face; at 1.2-1.3 neck, hair and
 *   background come in and the face shrinks to the middle two thirds. 1.1 fills the frame as FER2013 does;
 *   centred on the box the chin still touched the bottom edge on several faces, moved down 0.1 the forehead
 *   was cut and the neck came in, so 0.05.
 * - tiny (Tiny Face Detector) boxes are squarer, larger (mean side about 1.15 ssd's) and lower (centre about
 *   0.1 box heights below ssd's): its ratio, 0.92 and -0.1, puts the crop where ssd's lands on sample1.jpg's
 *   three faces (measured from the two detectors' boxes, not looked at separately).
 *
 * - blaze (BlazeFace) boxes are squarer and lower on the face than ssd's: FER2013's square is 1.155 box sides
 *   (median; quartiles 1.05-1.29) and centred 0.10 box heights above the box's centre (498 validation faces).
 *   Crops at 1.1-1.25 and shifts 0 to -0.15 scored 62.4-66.1% on those faces (plain path 66.7%) with no
 *   clear order across two runs; 1.2 : -0.05 scored 65.1 and 65.9% (the eyes levelled by the 68 landmarks or
 *   by BlazeFace's own eyes).
 *
 * Measured afterwards (2026-12-07, `packages/bench/src/pipeline.ts --part validation --crops ...`): 485 FER2013
 * faces pasted on canvases at known squares, found by ssd at 0.2 with the mirrored pass. The pasted square is
 * 1.117 box mean sides (median; quartiles 1.036-1.206), centred 0.011 box heights below the box's centre
 * (quartiles -0.017 to 0.041) and 0.000 box widths to the side: FER2013's framing is ssd's box at 1.1, as
 * chosen by eye. Cropped at 1.0, 1.1, 1.2 and 1.3 (shift 0.05), and at 1.1 with shifts 0 and 0.1, those faces
 * scored 64.9, 65.6, 65.8, 63.5, 65.4 and 64.5% (plain 48x48: 66.4%): 1.1-1.2 and shift 0-0.05 alike within
 * the noise of 485 faces, so the ratio stays. Not levelling the eyes scored 62.7%.
 */
export const FACE_CROP: Record<FaceDetectorName, { scale: number; shiftY: number }> = {
  ssd: { scale: 1.1, shiftY: 0.05 },
  tiny: { scale: 0.92, shiftY: -0.1 },
  blaze: { scale: 1.2, shiftY: -0.05 },
  'ssd+blaze': { scale: 1.1, shiftY: 0.05 },
};

/** The square of the photo a face's crop is taken from: its centre, side and turn (radians, clockwise). */
export interface CropRegion {
  cx: number;
  cy: number;
  size: number;
  angle: number;
}

export interface CropOptions {
  /** Which detector found the faces (default ssd): the ratios of FACE_CROP. */
  detector?: FaceDetectorName;
  /** Override FACE_CROP's scale. */
  scale?: number;
  /** Override FACE_CROP's downward shift of the centre, in box heights. */
  shiftY?: number;
  /** Level the eyes when the face has landmarks (default true). */
  align?: boolean;
}

/** Area of the intersection of two boxes over that of their union (0 when apart). */
export function boxIoU(a: FaceBox, b: FaceBox): number {
  const inter = boxOverlap(a, b);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Area of the intersection of two boxes (0 when apart). */
export function boxOverlap(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

function mean(points: Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

/**
 * The angle of the line from the face's right eye (on the left of the photo, landmarks 36-41) to its left eye
 * (42-47), 0 for level eyes; undefined without landmarks.
 */
export function eyeAngle(face: DetectedFace): number | undefined {
  const lm = face.landmarks;
  if (lm && lm.length >= 48) {
    const a = mean(lm.slice(36, 42));
    const b = mean(lm.slice(42, 48));
    return Math.atan2(b.y - a.y, b.x - a.x);
  }
  if (face.eyes) return Math.atan2(face.eyes[1].y - face.eyes[0].y, face.eyes[1].x - face.eyes[0].x);
  return undefined;
}

/** Where the FER2013-like crop of a detected face lies in the photo (see FACE_CROP). */
export function cropRegion(face: DetectedFace, options: CropOptions = {}): CropRegion {
  const ratios = FACE_CROP[face.detector ?? options.detector ?? 'ssd'];
  const scale = options.scale ?? ratios.scale;
  const shiftY = options.shiftY ?? ratios.shiftY;
  const { x, y, width, height } = face.box;
  const angle = options.align === false ? 0 : (eyeAngle(face) ?? 0);
  // the shift is along the face's own downward direction
  const d = shiftY * height;
  return { cx: x + width / 2 - Math.sin(angle) * d, cy: y + height / 2 + Math.cos(angle) * d, size: (scale * (width + height)) / 2, angle };
}

/**
 * The square `region` of a grey photo, turned upright, at the photo's own resolution (side rounded, at least 48):
 * bilinear samples, pixels outside the photo repeating its edge.
 */
export function sampleRegion(grey: Uint8Array, width: number, height: number, region: CropRegion): { pixels: Uint8Array; side: number } {
  const side = Math.max(IMAGE_SIZE, Math.round(region.size));
  const out = new Uint8Array(side * side);
  const step = region.size / side;
  const cos = Math.cos(region.angle);
  const sin = Math.sin(region.angle);
  const at = (xi: number, yi: number) => grey[(yi < 0 ? 0 : yi >= height ? height - 1 : yi) * width + (xi < 0 ? 0 : xi >= width ? width - 1 : xi)];
  for (let j = 0; j < side; j++) {
    const v = (j + 0.5) * step - region.size / 2;
    for (let i = 0; i < side; i++) {
      const u = (i + 0.5) * step - region.size / 2;
      // the crop's axes turned by the eye line's angle, in the photo's pixel centres
      const sx = region.cx + u * cos - v * sin - 0.5;
      const sy = region.cy + u * sin + v * cos - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[j * side + i] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return { pixels: out, side };
}

let greyLut: { linear: Float64Array; encode: Uint8Array } | undefined;
const ENCODE_STEPS = 65535;

/**
 * Grey bytes of interleaved RGB(A) pixels (`channels` 3 or 4; alpha ignored) as sharp's greyscale() makes them:
 * sRGB decoded to linear light, luminance 0.2126 R + 0.7152 G + 0.0722 B, encoded back to sRGB. Matches sharp
 * within rounding (at most 1 grey level apart on random colours; core's geometry test checks).
 */
export function greyFromRgb(data: ArrayLike<number>, width: number, height: number, channels: 3 | 4): Uint8Array {
  if (!greyLut) {
    const linear = new Float64Array(256);
    for (let v = 0; v < 256; v++) {
      const c = v / 255;
      linear[v] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }
    // linear light back to sRGB bytes through a table fine enough (65536 steps: under 0.05 grey level apart)
    const encode = new Uint8Array(ENCODE_STEPS + 1);
    for (let k = 0; k <= ENCODE_STEPS; k++) {
      const y = k / ENCODE_STEPS;
      encode[k] = Math.round(255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055));
    }
    greyLut = { linear, encode };
  }
  const { linear, encode } = greyLut;
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    out[i] = encode[Math.round(ENCODE_STEPS * (0.2126 * linear[data[s]] + 0.7152 * linear[data[s + 1]] + 0.0722 * linear[data[s + 2]]))];
  }
  return out;
}

/**
 * A square grey image of `side` pixels shrunk (or grown) to `size` x `size` by area averaging: each output pixel
 * is the mean of the input it covers, partly covered pixels weighted by the part. The page's stand-in for
 * sharp's resize (libvips: a box shrink, then Lanczos-3): on face crops the two differ by about 1-2 grey levels
 * on average (core's geometry test measures it).
 */
export function resizeArea(pixels: Uint8Array, side: number, size = IMAGE_SIZE): Uint8Array {
  const out = new Uint8Array(size * size);
  const k = side / size;
  // each output column's (and row's) input pixels and weights, computed once
  const spans: { start: number; weights: number[] }[] = [];
  for (let o = 0; o < size; o++) {
    const a = o * k;
    const b = (o + 1) * k;
    const start = Math.floor(a);
    const weights: number[] = [];
    for (let i = start; i < Math.min(side, Math.ceil(b)); i++) weights.push((Math.min(b, i + 1) - Math.max(a, i)) / k);
    spans.push({ start, weights });
  }
  const rows = new Float64Array(side * size);
  for (let y = 0; y < side; y++)
    for (let o = 0; o < size; o++) {
      const { start, weights } = spans[o];
      let s = 0;
      for (let t = 0; t < weights.length; t++) s += weights[t] * pixels[y * side + start + t];
      rows[y * size + o] = s;
    }
  for (let o = 0; o < size; o++) {
    const { start, weights } = spans[o];
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let t = 0; t < weights.length; t++) s += weights[t] * rows[(start + t) * size + x];
      out[o * size + x] = Math.min(255, Math.max(0, Math.round(s)));
    }
  }
  return out;
}

/**
 * One face's 48x48 grey input the way the page makes it: cropRegion, sampleRegion on the photo's grey bytes,
 * then resizeArea (Node's cropFaces resizes with sharp instead).
 */
export function cropFaceGrey(grey: Uint8Array, width: number, height: number, face: DetectedFace, options: CropOptions = {}): Uint8Array {
  const { pixels, side } = sampleRegion(grey, width, height, cropRegion(face, options));
  return resizeArea(pixels, side);
}
