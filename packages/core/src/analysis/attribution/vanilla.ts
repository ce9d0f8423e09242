import * as tf from '@tensorflow/tfjs';
import { type AttributionMethod, classesFor, faceTensor, imageCount, inBatches, inputGradients } from './types.js';

export interface VanillaOptions {
  batchSize?: number;
}

/** Simonyan et al. 2013: |d logit[class] / d pixel|, how much each pixel moves the class score. */
export const vanillaGradient: AttributionMethod<VanillaOptions> = async (model, images, classIndex, options = {}) => {
  const n = imageCount(images);
  return inBatches(images, classesFor(classIndex, n), options.batchSize ?? 32, async (x, c) => {
    const g = tf.tidy(() => tf.abs(inputGradients(model, faceTensor(x, c.length), c)));
    const out = (await g.data()) as Float32Array;
    g.dispose();
    return out;
  });
};
