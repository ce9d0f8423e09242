import * as tf from '@tensorflow/tfjs';
import { FER_BATCH_NORM_GRAD_SUMS } from '../ops/FerBatchNormGradSums.js';

/**
 * BatchNorm's gradient without tfjs's tile: tfjs materialises rsqrt(var+eps) at the full size of x
 * (Tile) where a broadcasting multiply does the same,
 * and it reduces dy and dy*(x-mean) twice each. The math is tfjs's (mean and variance are inputs;
 * their gradients flow on through tf.moments):
 *   dx = dy*scale*r, dmean = -sum(dy)*scale*r, dvar = -0.5*sum(dy*(x-mean))*scale*r^3,
 *   dscale = sum(dy*(x-mean))*r, doffset = sum(dy), with r = 1/sqrt(var+eps), sums over all but channels.
 * The sums are made once, outside the per-input closures: the engine runs gradFunc inside its backward
 * tidy, so they are freed with the rest of the backward pass.
 */
export const fusedBatchNormGradientConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const r = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    let sumDy: tf.Tensor;
    let sumDyXmu: tf.Tensor;
    if (mean.rank === 1 && tf.getKernel(FER_BATCH_NORM_GRAD_SUMS, tf.getBackend())) {
      [sumDy, sumDyXmu] = tf.engine().runKernel(FER_BATCH_NORM_GRAD_SUMS, { dy: g, x, mean }) as tf.Tensor[];
    } else {
      const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const sumOver = (t: tf.Tensor) => (mean.rank === 1 ? tf.sum(t, axes) : t);
      sumDy = sumOver(g);
      sumDyXmu = sumOver(tf.mul(g, tf.sub(x, mean)));
    }
    return {
      x: () => tf.reshape(tf.mul(g, tf.mul(r, scaleValue)), x.shape),
      mean: () => tf.reshape(tf.mul(sumDy, tf.mul(tf.neg(r), scaleValue)), mean.shape),
      variance: () => tf.reshape(tf.mul(sumDyXmu, tf.mul(tf.mul(tf.mul(r, r), r), tf.mul(scaleValue, -0.5))), mean.shape),
      scale: () => tf.reshape(tf.mul(sumDyXmu, r), mean.shape),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  },
};
