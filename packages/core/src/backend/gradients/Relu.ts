import * as tf from '@tensorflow/tfjs';
import { FER_LEAKY_RELU_GRAD } from '../ops/FerLeakyReluGrad.js';

/**
 * ReLU's gradient as fer's one-pass LeakyReLU gradient with alpha 0 (dy where x > 0, else 0) where the
 * backend has it. tfjs's is mul(dy, cast(step(x))): two full-size passes and a temporary, on every
 * activation of a net whose ReLUs follow each convolution (vgg). Elsewhere tfjs's own formula.
 */
export const reluGradientConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => {
        const d = dy as tf.Tensor;
        if (x.dtype === 'float32' && d.dtype === 'float32' && tf.getKernel(FER_LEAKY_RELU_GRAD, tf.getBackend()))
          return tf.engine().runKernel(FER_LEAKY_RELU_GRAD, { dy: d, x }, { alpha: 0 } as never) as tf.Tensor;
        return tf.mul(d, tf.cast(tf.step(x), 'float32'));
      },
    };
  },
};
