import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../../classes.js';
import { FerError } from '../../errors.js';

/**
 * Every attribution method has this one shape, as in tf-keras-vis and pytorch-grad-cam:
 * `images` are N faces as model input (N x 48 x 48, float 0..1, row-major), `classIndex` the class to
 * explain (one for all, or one per face), and the result is N non-negative 48x48 maps, row-major.
 * Maps are not normalised: how they are shown is the viewer's business.
 */
export type AttributionMethod<O = object> = (model: tf.LayersModel, images: Float32Array, classIndex: number | ArrayLike<number>, options?: O) => Promise<Float32Array>;

export function imageCount(images: Float32Array): number {
  if (images.length % PIXELS_PER_IMAGE !== 0) throw new FerError(`attribution input holds ${images.length} values, not a whole number of 48x48 faces`);
  return images.length / PIXELS_PER_IMAGE;
}

export function classesFor(classIndex: number | ArrayLike<number>, n: number): number[] {
  const out = typeof classIndex === 'number' ? new Array<number>(n).fill(classIndex) : Array.from(classIndex);
  if (out.length !== n) throw new FerError(`${out.length} class indices for ${n} faces`);
  return out;
}

export const faceTensor = (images: Float32Array, n: number) => tf.tensor4d(images, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);

/** The logits of the chosen class of each face, summed: faces do not interact in inference mode, so its gradient is every face's own. */
export function chosenLogitSum(logits: tf.Tensor2D, classes: number[]): tf.Scalar {
  const mask = tf.oneHot(tf.tensor1d(classes, 'int32'), logits.shape[1]);
  return tf.sum(tf.mul(logits, mask));
}

/** d logit[class] / d input for each face, N x 48 x 48 x 1. */
export function inputGradients(model: tf.LayersModel, x: tf.Tensor4D, classes: number[]): tf.Tensor4D {
  const f = (input: tf.Tensor) => chosenLogitSum(model.apply(input, { training: false }) as tf.Tensor2D, classes);
  return tf.grad(f)(x) as tf.Tensor4D;
}

/** Runs `fn` on groups of at most `batch` faces, to bound memory on big inputs. */
export async function inBatches(images: Float32Array, classes: number[], batch: number, fn: (x: Float32Array, c: number[]) => Promise<Float32Array>): Promise<Float32Array> {
  const n = classes.length;
  const out = new Float32Array(n * PIXELS_PER_IMAGE);
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    out.set(await fn(images.subarray(s * PIXELS_PER_IMAGE, e * PIXELS_PER_IMAGE), classes.slice(s, e)), s * PIXELS_PER_IMAGE);
  }
  return out;
}
