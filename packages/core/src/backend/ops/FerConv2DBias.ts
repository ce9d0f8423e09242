import * as tf from '@tensorflow/tfjs';

/**
 * conv2d + bias as one op whose gradients are computed only when asked for. tfjs's fused conv2d (what
 * tf.layers.conv2d runs) computes dL/dx together with dL/dW, and for a net's first layer dL/dx is the
 * gradient with respect to the images, which training never uses; plain conv2d + add has lazy gradients
 * but a separate bias pass. This op's kernel runs the backend's own FusedConv2D forward (bias included,
 * no activation) on any backend, and its gradient is three independent closures, so saliency maps still
 * get dL/dx. Both are registered from registry.ts (FER_OPS), per backend as it starts.
 */
export const FER_CONV2D_BIAS = 'FerConv2DBias';

interface Attrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid';
  dilations: [number, number] | number;
}

/** The kernel on `backendName`: that backend's FusedConv2D at the time of the call (fer's on wasm when active). */
export function ferConv2DBiasConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: FER_CONV2D_BIAS,
    backendName,
    kernelFunc: (args) => {
      const { strides, pad, dilations } = args.attrs as unknown as Attrs;
      const k = tf.getKernel(tf.FusedConv2D, backendName);
      if (!k) throw new Error(`${FER_CONV2D_BIAS}: the ${backendName} backend has no FusedConv2D`);
      return k.kernelFunc({ ...args, attrs: { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined, activation: 'linear', leakyreluAlpha: 0 } as never });
    },
  };
}

export const ferConv2DBiasGradientConfig: tf.GradConfig = {
  kernelName: FER_CONV2D_BIAS,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad } = attrs as unknown as Attrs;
    const g = dy as tf.Tensor4D;
    const common = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: g, filter }, { ...common, inputShape: x.shape } as never) as tf.Tensor,
      filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: g }, { ...common, filterShape: filter.shape } as never) as tf.Tensor,
      bias: () => tf.sum(g, [0, 1, 2]),
    };
  },
};

/** y = conv2d(x, filter) + bias (NHWC, undilated), with lazy gradients; plain ops where the op is not registered on this backend. */
export function conv2dBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, strides: [number, number], pad: 'same' | 'valid'): tf.Tensor4D {
  if (!tf.getKernel(FER_CONV2D_BIAS, tf.getBackend())) return tf.add(tf.conv2d(x, filter, strides, pad), bias);
  return tf.engine().runKernel(FER_CONV2D_BIAS, { x, filter, bias }, { strides, pad, dilations: [1, 1] } as never) as tf.Tensor4D;
}
