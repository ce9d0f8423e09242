import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of a mean without tfjs's ones tensor: tfjs multiplies dy by ones(x.shape), filled by a
 * JavaScript loop (tf.moments in each BatchNorm layer: about 5 ms of a seed-CNN training step on wasm).
 * Here dy / count is broadcast onto zeros(x.shape) by one Add, both native kernels. Same values.
 */
export const meanGradConfig: tf.GradConfig = {
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
        const expanded = x.shape.slice();
        for (const a of axes) expanded[a] = 1;
        return tf.add(tf.zerosLike(x), tf.div(tf.reshape(dy as tf.Tensor, expanded), count));
      },
    };
  },
};
