import { cropFaces, type CropOptions } from './crop.js';
import { detectFaces, type DetectedFace, type DetectOptions, type RawImage } from './detect.js';

/** The exit code of `fer predict` when an image holds no face. */
export const NO_FACE_EXIT_CODE = 3;

export interface PhotoFaces {
  /** The faces found, highest detector score first. */
  faces: DetectedFace[];
  /** Each face cropped as FER2013 crops faces (cropFaces): faces.length * 48 * 48 grey bytes. */
  pixels: Uint8Array;
}

/** Every face of a photo, found (detectFaces) and cropped to 48x48 grey (cropFaces) for the models. */
export async function facesInPhoto(image: RawImage, options: DetectOptions & Omit<CropOptions, 'detector'> = {}): Promise<PhotoFaces> {
  const faces = await detectFaces(image, options);
  return { faces, pixels: await cropFaces(image, faces, { ...options, detector: options.detector }) };
}
