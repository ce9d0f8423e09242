import sharp from 'sharp';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { FerError } from '../errors.js';
import type { DetectedFace, FaceDetectorName, Point, RawImage } from './detect.js';
import { toRgb } from './detect.js';

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
 */
export const FACE_CROP: Record<FaceDetectorName, { scale: number; shiftY: number }> = {
  ssd: { scale: 1.1, shiftY: 0.05 },
  tiny: { scale: 0.92, shiftY: -0.1 },
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
  if (!lm || lm.length < 48) return undefined;
  const a = mean(lm.slice(36, 42));
  const b = mean(lm.slice(42, 48));
  return Math.atan2(b.y - a.y, b.x - a.x);
}

/** Where the FER2013-like crop of a detected face lies in the photo (see FACE_CROP). */
export function cropRegion(face: DetectedFace, options: CropOptions = {}): CropRegion {
  const ratios = FACE_CROP[options.detector ?? 'ssd'];
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

/** A photo's grey bytes, by sharp's greyscale as loadFaceImage makes training faces grey. */
export async function greyPixels(image: RawImage): Promise<Uint8Array> {
  if (image.channels === 1) return image.data;
  const rgb = toRgb(image);
  const { data } = await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, image.width * image.height);
}

/**
 * Each face as FER2013 has faces: the square of cropRegion, upright, grey, shrunk to 48x48 by sharp as
 * loadFaceImage shrinks images. Returns faces.length * 48 * 48 bytes, one face after another.
 */
export async function cropFaces(image: RawImage, faces: readonly DetectedFace[], options: CropOptions = {}): Promise<Uint8Array> {
  const grey = await greyPixels(image);
  const out = new Uint8Array(faces.length * PIXELS_PER_IMAGE);
  for (const [i, face] of faces.entries()) {
    const { pixels, side } = sampleRegion(grey, image.width, image.height, cropRegion(face, options));
    const { data, info } = await sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
      .greyscale()
      .resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || data.length !== PIXELS_PER_IMAGE) throw new FerError(`face ${i + 1}: the crop came out ${info.width}x${info.height}x${info.channels}`);
    out.set(data, i * PIXELS_PER_IMAGE);
  }
  return out;
}
