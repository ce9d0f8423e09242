import * as tf from '@tensorflow/tfjs';
import { gaussian, mulberry32 } from '../../random.js';
import { type AttributionMethod, classesFor, faceTensor, imageCount, inBatches, inputGradients } from './types.js';

export interface SmoothGradOptions {
  /** Noisy copies per face (Smilkov et al. use 50; 25 is already smooth at 48x48). */
  samples?: number;
  /** Noise standard deviation as a share of the input range 0..1 (the paper's 10-20%). */
  noise?: number;
  seed?: number;
  batchSize?: number;
}

/**
 * Smilkov et al. 2017: the gradient averaged over copies of the face with Gaussian noise added, then
 * its magnitude (as tf-keras-vis does). Averaging signed gradients cancels the flicker that changes
 * sign from pixel to pixel; averaging |gradient| would keep it as a grainy floor.
 */
export const smoothGrad: AttributionMethod<SmoothGradOptions> = async (model, images, classIndex, options = {}) => {
  const samples = options.samples ?? 25;
  const sigma = options.noise ?? 0.15;
  const gauss = gaussian(mulberry32(options.seed ?? 0));
  const n = imageCount(images);
  return inBatches(images, classesFor(classIndex, n), options.batchSize ?? 16, async (x, c) => {
    const sum = new Float32Array(x.length);
    const noisy = new Float32Array(x.length);
    for (let s = 0; s < samples; s++) {
      for (let i = 0; i < x.length; i++) noisy[i] = x[i] + sigma * gauss();
      const g = tf.tidy(() => inputGradients(model, faceTensor(noisy, c.length), c));
      const v = await g.data();
      g.dispose();
      for (let i = 0; i < sum.length; i++) sum[i] += v[i] / samples;
    }
    for (let i = 0; i < sum.length; i++) sum[i] = Math.abs(sum[i]);
    return sum;
  });
};
