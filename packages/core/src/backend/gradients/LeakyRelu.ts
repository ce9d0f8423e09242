import * as tf from '@tensorflow/tfjs';
import { FER_LEAKY_RELU_GRAD } from '../ops/FerLeakyReluGrad.js';

/**
 * LeakyReLU's gradient through our one-pass kernel where the backend has one; elsewhere tfjs's own
 * formula, unchanged.
 */
export const leakyReluGradientConfig: tf.GradConfig = {
  kernelName: tf.LeakyRelu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    return {
      x: () => {
        const d = dy as tf.Tensor;
        if (tf.getKernel(FER_LEAKY_RELU_GRAD, tf.getBackend())) return tf.engine().runKernel(FER_LEAKY_RELU_GRAD, { dy: d, x }, { alpha } as never) as tf.Tensor;
        return tf.where(tf.greater(x, 0), d, tf.mul(d, alpha));
      },
    };
  },
};
