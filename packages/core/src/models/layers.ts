import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE } from '../classes.js';
import { flags } from '../flags.js';
import { conv2dBias } from '../backend/ops/FerConv2DBias.js';

/**
 * The report's models are PyTorch. Two things differ from tfjs's Keras-style defaults and matter for
 * learning alike: PyTorch initialises weights and biases uniformly in +-1/sqrt(fan_in) (kaiming_uniform
 * with a = sqrt(5)), and its BatchNorm averages with momentum 0.1 (Keras' 0.9) and eps 1e-5.
 */
export function torchInit(fanIn: number, seed: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed + 1 }),
  };
}

export const batchNorm = (name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });

export interface ConvSpec {
  filters: number;
  kernel: number;
  inChannels: number;
}

// tf.layers.conv2d's class, for the one subclass below.
const Conv2DLayer = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: Parameters<typeof tf.layers.conv2d>[0]) => tf.layers.Layer;

/**
 * The first convolution of a net, exactly tf.layers.conv2d but run as fer's conv2d + bias op
 * (backend/ops/FerConv2DBias.ts) instead of tfjs's fused op, whose gradient computes dL/dx together with
 * dL/dW: for the first layer dL/dx is the gradient with respect to the images, which training never
 * uses. Here each gradient is computed only when asked for, so saliency maps still get theirs.
 */
export class InputConv2D extends Conv2DLayer {
  static className = 'FerInputConv2D';
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // biome-ignore lint/suspicious/noExplicitAny: tfjs's Conv2D keeps kernel, bias and padding in protected fields
    const self = this as any;
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const dilated = self.dilationRate.some((d: number) => d !== 1);
      if (self.useBias && !dilated && String(self.activation.getClassName()).toLowerCase() === 'linear')
        return conv2dBias(x, self.kernel.read(), self.bias.read(), self.strides, self.padding);
      const y = tf.conv2d(x, self.kernel.read(), self.strides, self.padding, 'NHWC', self.dilationRate);
      return self.activation.apply(self.useBias ? tf.add(y, self.bias.read()) : y);
    });
  }
}
tf.serialization.registerClass(InputConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** Whether a layer is a 2-D convolution (tf.layers.conv2d or the InputConv2D above). */
export function isConv2DLayer(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === 'Conv2D' || layer instanceof Conv2DLayer;
}

/** conv (PyTorch init, 'same' padding) -> LeakyReLU 0.05 or ReLU -> BatchNorm (optional) -> 2x2 max-pool. */
export function convBlock(model: tf.Sequential, spec: ConvSpec, index: number, seed: number, opts: { batchNorm: boolean; leaky: boolean; first: boolean }) {
  const conv = (args: Parameters<typeof tf.layers.conv2d>[0]) => (opts.first && flags.unfusedInputConv ? new InputConv2D(args) : tf.layers.conv2d(args));
  model.add(
    conv({
      filters: spec.filters,
      kernelSize: spec.kernel,
      padding: 'same', // the report pads k//2 with stride 1: the same size out
      name: `conv${index}`,
      ...(opts.first ? { inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1] } : {}),
      ...torchInit(spec.inChannels * spec.kernel * spec.kernel, seed + 10 * index),
    }),
  );
  model.add(opts.leaky ? tf.layers.leakyReLU({ alpha: 0.05, name: `leaky${index}` }) : tf.layers.reLU({ name: `relu${index}` }));
  if (opts.batchNorm) model.add(batchNorm(`bn${index}`));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${index}` }));
}
