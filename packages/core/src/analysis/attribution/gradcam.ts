import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE } from '../../classes.js';
import { featureLayer, pickConvLayer, splitModelAt } from './layers.js';
import { type AttributionMethod, chosenLogitSum, classesFor, faceTensor, imageCount, inBatches } from './types.js';

export interface GradCamOptions {
  /** Conv layer by 1-based number or name; default the last, as Selvaraju et al. use. */
  layer?: number | string;
  batchSize?: number;
}

/**
 * Selvaraju et al. 2017: the last conv layer's feature maps weighted by the spatial mean of the class
 * score's gradient on each, summed, ReLU'd and upsampled bilinearly to 48x48. Its resolution is the
 * layer's (12x12 in the simple CNN, 6x6 in the seed CNN), so it says where, not which pixel.
 */
export const gradCam: AttributionMethod<GradCamOptions> = async (model, images, classIndex, options = {}) => {
  const n = imageCount(images);
  const target = featureLayer(model, pickConvLayer(model, options.layer), true);
  const { head, tail } = splitModelAt(model, target);
  return inBatches(images, classesFor(classIndex, n), options.batchSize ?? 32, async (x, c) => {
    const cam = tf.tidy(() => {
      const features = head(faceTensor(x, c.length)) as tf.Tensor4D;
      const grads = tf.grad((a: tf.Tensor) => chosenLogitSum(tail(a) as tf.Tensor2D, c))(features) as tf.Tensor4D;
      const weights = tf.mean(grads, [1, 2], true);
      const map = tf.relu(tf.sum(tf.mul(features, weights), 3, true)) as tf.Tensor4D;
      return tf.image.resizeBilinear(map, [IMAGE_SIZE, IMAGE_SIZE], true);
    });
    const out = (await cam.data()) as Float32Array;
    cam.dispose();
    return out;
  });
};
