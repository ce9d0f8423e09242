import * as tf from '@tensorflow/tfjs';
import { FER_SCALED_MUL } from '../ops/FerScaledMul.js';

/**
 * The gradient of a square, dy * 2x, as fer's one-pass FerScaledMul where the backend has it; tfjs's
 * mul(dy, mul(x, 2)) elsewhere. tf.moments squares the deviations of every BatchNorm input in training,
 * so vgg runs this on each of its eight activations per step.
 */
export const squareGradientConfig: tf.GradConfig = {
  kernelName: tf.Square,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => {
        const d = dy as tf.Tensor;
        if (x.dtype === 'float32' && d.dtype === 'float32' && tf.util.arraysEqual(x.shape, d.shape) && tf.getKernel(FER_SCALED_MUL, tf.getBackend()))
          return tf.engine().runKernel(FER_SCALED_MUL, { a: d, b: x }, { scale: 2 } as never) as tf.Tensor;
        return tf.mul(d, tf.mul(tf.cast(x, 'float32'), 2));
      },
    };
  },
};
