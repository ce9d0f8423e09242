import sharp from 'sharp';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { FerError } from '../errors.js';
import type { RawImage } from './detect.js';
import { toRgb } from './detect.js';
import { type CropOptions, type DetectedFace, cropRegion, sampleRegion } from './geometry.js';

// The geometry (where a face's crop lies, sampling it upright) is pure and shared with the browser page
// (`@fer/core/face`); core's users find it here as before.
export { FACE_CROP, type CropOptions, type CropRegion, cropFaceGrey, cropRegion, eyeAngle, greyFromRgb, resizeArea, sampleRegion } from './geometry.js';

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
