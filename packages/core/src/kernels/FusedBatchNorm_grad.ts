import * as tf from '@tensorflow/tfjs';

/**
 * BatchNorm's gradient without tfjs's tile: tfjs materialises rsqrt(var+eps) at the full size of x
 * (Tile, 110 ms per seed-CNN step at batch 64 on wasm) where a broadcasting multiply does the same.
 * The math is tfjs's (mean and variance are inputs; their gradients flow on through tf.moments):
 *   dx = dy*scale*r, dmean = -sum(dy)*scale*r, dvar = -0.5*sum(dy*(x-mean))*scale*r^3,
 *   dscale = sum(dy*(x-mean))*r, doffset = sum(dy), with r = 1/sqrt(var+eps), sums over all but channels.
 */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const scaleValue = scale == null ? tf.scalar(1) : scale;
    const r = () => tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const sumOver = (t: tf.Tensor) => (mean.rank === 1 ? tf.sum(t, axes) : t);
    const dyXmu = () => sumOver(tf.mul(g, tf.sub(x, mean)));
    return {
      x: () => tf.reshape(tf.mul(g, tf.mul(r(), scaleValue)), x.shape),
      mean: () => tf.reshape(tf.mul(sumOver(g), tf.mul(tf.neg(r()), scaleValue)), mean.shape),
      variance: () => {
        const rr = r();
        return tf.reshape(tf.mul(dyXmu(), tf.mul(tf.mul(tf.mul(rr, rr), rr), tf.mul(scaleValue, -0.5))), mean.shape);
      },
      scale: () => tf.reshape(tf.mul(dyXmu(), r()), mean.shape),
      offset: () => tf.reshape(sumOver(g), mean.shape),
    };
  },
};
