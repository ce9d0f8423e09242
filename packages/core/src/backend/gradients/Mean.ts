import * as tf from '@tensorflow/tfjs';
import { groupedRows } from '../kernels/Mean.js';
import { FER_MEAN_GRAD } from '../ops/FerMeanGrad.js';

/**
 * The gradient of a mean without tfjs's ones tensor: tfjs multiplies dy by ones(x.shape), filled by a
 * JavaScript loop (tf.moments in each BatchNorm layer, global average pooling).
 * Here dy / count is written to every row by our wasm kernel (FerMeanGrad) when the mean is over all
 * axes but the last (BatchNorm's case) or over NHWC's spatial axes (global average pooling), else
 * broadcast onto zeros(x.shape) by one Add. Same values.
 */
export const meanGradientConfig: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as { axis: number | number[] };
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const [, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const count = tf.util.sizeFromShape(reduceShape);
    return {
      x: () => {
        const g = groupedRows(x.shape, axes);
        if (g && g.rows > 0 && x.dtype === 'float32' && tf.getKernel(FER_MEAN_GRAD, tf.getBackend())) {
          return tf.engine().runKernel(FER_MEAN_GRAD, { dy: tf.reshape(dy as tf.Tensor, [g.groups * g.c]) }, { shape: x.shape } as never) as tf.Tensor;
        }
        const expanded = x.shape.slice();
        for (const a of axes) expanded[a] = 1;
        return tf.add(tf.zerosLike(x), tf.div(tf.reshape(dy as tf.Tensor, expanded), count));
      },
    };
  },
};
