import type * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { decodeFaceImage, readImageFile } from '../data/images.js';
import { type DetectOptions, type DetectedFace, type FaceBox, type RawImage, decodePhoto, toRgb } from '../detect/detect.js';
import { facesInPhoto } from '../detect/faces.js';
import { FerError } from '../errors.js';
import { type FacePrediction, type PredictOptions, describePredictions, predictFaces } from './predict.js';

/** Images no larger than this on either side are taken as one cropped face, unless `detect: true`. */
export const CROPPED_FACE_MAX_SIDE = 128;

/**
 * An image to predict: a file (read when its turn comes; messages name the file), encoded bytes (JPEG, PNG,
 * WebP, GIF, TIFF; messages name `source`, default `name`), or decoded pixels. `name` is what its rows call it.
 */
export type PhotoInput = { name: string; file: string } | { name: string; bytes: Uint8Array; source?: string } | { name: string; image: RawImage; source?: string };

export interface PhotoOptions extends PredictOptions, Pick<DetectOptions, 'detector' | 'minScore' | 'minFaceSize' | 'mirror' | 'retry' | 'modelDir'> {
  /**
   * undefined (default): search images larger than CROPPED_FACE_MAX_SIDE on either side for faces, and take
   * smaller ones (a 48x48 FER2013 face) as one cropped face; true: search every image; false: take every image
   * as one cropped face (48x48 grey, as in training).
   */
  detect?: boolean;
}

/** One face as `fer predict --json` prints it. */
export interface PhotoFaceRow {
  /** The image's name. */
  file: string;
  /** 1, 2, ... in the image, highest detector score first. */
  face: number;
  /** Where the face is, in the photo's pixels, rounded to 0.1; null for an image taken as one cropped face. */
  box: FaceBox | null;
  /** The detector's score, rounded to 0.0001; null for an image taken as one cropped face. */
  score: number | null;
  label: number;
  emotion: string;
  /** Every class's probability, most likely first. */
  probabilities: Record<string, number>;
}

/** What was found and predicted in one image. */
export interface PhotoPrediction {
  name: string;
  /** The image's size, when it was decoded whole (not with `detect: false`). */
  width?: number;
  height?: number;
  /** The faces found; undefined for an image taken as one cropped face. */
  faces?: DetectedFace[];
  /** The image was searched and holds no face (`fer predict` exits NO_FACE_EXIT_CODE). */
  noFace: boolean;
  /** One per face (one for an image taken as one cropped face). */
  predictions: FacePrediction[];
  rows: PhotoFaceRow[];
}

const round = (x: number) => Math.round(x * 10) / 10;

/** A decoded image as 48x48 grey, as decodeFaceImage shrinks encoded ones. */
async function rawFace(image: RawImage, source: string): Promise<Uint8Array> {
  try {
    const { data } = await sharp(toRgb(image), { raw: { width: image.width, height: image.height, channels: 3 } })
      .greyscale()
      .resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, PIXELS_PER_IMAGE).slice();
  } catch (e) {
    throw new FerError(`${source}: cannot shrink it to 48x48 (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * `fer predict` on images, for the command and for `fer serve`'s POST /predict: each image taken as one cropped
 * face (48x48 grey, as in training) or searched for faces (facesInPhoto: found, aligned, cropped like FER2013),
 * as `options.detect` says; every face then classified by the models (predictFaces: one model, or the average
 * of several, each with its own crop padding; `tta` for test-time views), all faces in one batch. Returns each
 * image's faces and predictions, and `rows`: the objects `fer predict --json` prints, one per face.
 * Images are read and searched one after another; an unreadable one is a FerError naming it.
 */
export async function predictPhotos(
  models: tf.LayersModel | readonly tf.LayersModel[],
  inputs: readonly PhotoInput[],
  options: PhotoOptions = {},
): Promise<{ images: PhotoPrediction[]; rows: PhotoFaceRow[] }> {
  const { detect, tta, cropPad, batchSize, detector, minScore, minFaceSize, mirror, retry, modelDir } = options;
  const detectOptions: DetectOptions = { detector, minScore, minFaceSize, mirror, retry, modelDir };
  const found: { name: string; faces?: DetectedFace[]; width?: number; height?: number; first: number; count: number }[] = [];
  const crops: Uint8Array[] = [];
  let total = 0;
  for (const input of inputs) {
    const source = 'file' in input ? input.file : (input.source ?? input.name);
    const bytes = 'file' in input ? await readImageFile(input.file) : 'bytes' in input ? input.bytes : undefined;
    let photo: RawImage | undefined;
    if (detect !== false) {
      photo = 'image' in input ? input.image : await decodePhoto(bytes as Uint8Array, source);
      if (detect === undefined && Math.max(photo.width, photo.height) <= CROPPED_FACE_MAX_SIDE) photo = undefined;
    }
    if (!photo) {
      crops.push('image' in input ? await rawFace(input.image, source) : await decodeFaceImage(bytes as Uint8Array, source));
      found.push({ name: input.name, first: total, count: 1 });
      total++;
      continue;
    }
    const faces = await facesInPhoto(photo, detectOptions);
    crops.push(faces.pixels);
    found.push({ name: input.name, faces: faces.faces, width: photo.width, height: photo.height, first: total, count: faces.faces.length });
    total += faces.faces.length;
  }
  const pixels = new Uint8Array(total * PIXELS_PER_IMAGE);
  let offset = 0;
  for (const c of crops) {
    pixels.set(c, offset);
    offset += c.length;
  }
  const preds = total ? describePredictions(await predictFaces(models, pixels, { tta, cropPad, batchSize })) : [];
  const images = found.map((im): PhotoPrediction => {
    const predictions = preds.slice(im.first, im.first + im.count);
    const rows = predictions.map((p, k) => {
      const f = im.faces?.[k];
      return {
        file: im.name,
        face: k + 1,
        box: f ? { x: round(f.box.x), y: round(f.box.y), width: round(f.box.width), height: round(f.box.height) } : null,
        score: f ? round(f.score * 1000) / 1000 : null,
        label: p.label,
        emotion: p.emotion,
        probabilities: Object.fromEntries(p.ranked.map((r) => [r.emotion, r.probability])),
      };
    });
    return { name: im.name, width: im.width, height: im.height, faces: im.faces, noFace: !!im.faces && im.count === 0, predictions, rows };
  });
  return { images, rows: images.flatMap((im) => im.rows) };
}
