import * as tf from '@tensorflow/tfjs';
import { FerError } from './errors.js';
import { conv2dBias } from './kernels/FerConv2DBias.js';
import { IMAGE_SIZE, NUM_CLASSES } from './classes.js';

export const MODEL_NAMES = ['seed', 'simple'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/*
 * The report's models are PyTorch. Two things differ from tfjs's Keras-style defaults and matter for
 * learning alike: PyTorch initialises weights and biases uniformly in +-1/sqrt(fan_in) (kaiming_uniform
 * with a = sqrt(5)), and its BatchNorm averages with momentum 0.1 (Keras' 0.9) and eps 1e-5.
 */
function torchInit(fanIn: number, seed: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed }),
    biasInitializer: tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed + 1 }),
  };
}

const batchNorm = (name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });

interface ConvSpec {
  filters: number;
  kernel: number;
  inChannels: number;
}

// tf.layers.conv2d's class, for the one subclass below.
const Conv2DLayer = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: Parameters<typeof tf.layers.conv2d>[0]) => tf.layers.Layer;

/**
 * The first convolution of a net, exactly tf.layers.conv2d but run as fer's conv2d + bias op
 * (conv_bias_op.ts) instead of tfjs's fused op, whose gradient computes dL/dx together with dL/dW: for
 * the first layer dL/dx is the gradient with respect to the images, which training never uses (about a
 * tenth of a training step of the seed CNN on wasm). Here each gradient is computed only when asked
 * for, so saliency maps still get theirs.
 */
export class InputConv2D extends Conv2DLayer {
  static className = 'FerInputConv2D';
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const self = this as any;
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const dilated = self.dilationRate.some((d: number) => d !== 1);
      if (self.useBias && !dilated && String(self.activation.getClassName()).toLowerCase() === 'linear') return conv2dBias(x, self.kernel.read(), self.bias.read(), self.strides, self.padding);
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

/** Build switch for A/B timing (`fer bench --ablation`): the first conv layer as InputConv2D or as tf.layers.conv2d. */
export const MODEL_BUILD = { unfusedInputConv: true };

function convBlock(model: tf.Sequential, spec: ConvSpec, index: number, seed: number, opts: { batchNorm: boolean; leaky: boolean; first: boolean }) {
  const conv = (args: Parameters<typeof tf.layers.conv2d>[0]) => (opts.first && MODEL_BUILD.unfusedInputConv ? new InputConv2D(args) : tf.layers.conv2d(args));
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

/**
 * The report's CNN: four conv blocks (5x5 to 32, 3x3 to 64, 128, 128; LeakyReLU 0.05; BatchNorm after
 * the last two; max-pool 2 each), then 1152 -> 256 (ReLU, BatchNorm) -> 7. 538,759 trainable parameters,
 * as PyTorch counts them.
 */
export function seedCnn(options: { seed?: number; width?: number } = {}): tf.Sequential {
  const seed = options.seed ?? 0;
  // width < 1 thins every layer alike: the same architecture, cheap enough for the pure-JS backend in tests
  const w = (n: number) => Math.max(1, Math.round(n * (options.width ?? 1)));
  const m = tf.sequential({ name: 'seed' });
  const specs: ConvSpec[] = [
    { filters: w(32), kernel: 5, inChannels: 1 },
    { filters: w(64), kernel: 3, inChannels: w(32) },
    { filters: w(128), kernel: 3, inChannels: w(64) },
    { filters: w(128), kernel: 3, inChannels: w(128) },
  ];
  specs.forEach((s, i) => convBlock(m, s, i + 1, seed, { batchNorm: i >= 2, leaky: true, first: i === 0 }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: w(256), name: 'fc1', ...torchInit(3 * 3 * w(128), seed + 100) }));
  m.add(tf.layers.reLU({ name: 'relu_fc1' }));
  m.add(batchNorm('bn_fc1'));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', ...torchInit(w(256), seed + 110) }));
  return m;
}

/**
 * The report's "simple 3-layer CNN [64, 128, 512]" that it uses for saliency maps: three 3x3 conv
 * blocks (ReLU, BatchNorm, max-pool 2) of 64, 128 and 512 filters, global average pooling, then 7 logits.
 */
export function simpleCnn(options: { seed?: number } = {}): tf.Sequential {
  const seed = options.seed ?? 0;
  const m = tf.sequential({ name: 'simple' });
  const specs: ConvSpec[] = [
    { filters: 64, kernel: 3, inChannels: 1 },
    { filters: 128, kernel: 3, inChannels: 64 },
    { filters: 512, kernel: 3, inChannels: 128 },
  ];
  // BatchNorm after each block, as in the seed CNN: without it this model sits at chance on the
  // synthetic faces (its ReLUs die within the first epoch at Adam's usual rates).
  specs.forEach((s, i) => convBlock(m, s, i + 1, seed, { batchNorm: true, leaky: false, first: i === 0 }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', ...torchInit(512, seed + 110) }));
  return m;
}

export function buildModel(name: string, options: { seed?: number; width?: number } = {}): tf.Sequential {
  if (name === 'seed') return seedCnn(options);
  if (name === 'simple') return simpleCnn(options);
  throw new FerError(`unknown model "${name}"`, { hint: `choose one of: ${MODEL_NAMES.join(', ')}` });
}

export interface LayerRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  trainable: number;
  nonTrainable: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerRow[];
  trainable: number;
  nonTrainable: number;
}

const count = (ws: tf.LayerVariable[]) => ws.reduce((s, w) => s + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);

/** The layer table: output shapes and trainable / non-trainable parameter counts. */
export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers = model.layers.map((l) => ({
    name: l.name,
    type: isConv2DLayer(l) ? 'Conv2D' : l.getClassName(),
    outputShape: l.outputShape as (number | null)[],
    trainable: count(l.trainableWeights),
    nonTrainable: count(l.nonTrainableWeights),
  }));
  return {
    name: model.name,
    layers,
    trainable: layers.reduce((s, l) => s + l.trainable, 0),
    nonTrainable: layers.reduce((s, l) => s + l.nonTrainable, 0),
  };
}

/** The summary as a plain-text table. */
export function formatSummary(s: ModelSummary): string {
  const rows = s.layers.map((l) => [l.name, l.type, `(${l.outputShape.map((d) => d ?? 'N').join(', ')})`, l.trainable.toLocaleString('en-US'), l.nonTrainable.toLocaleString('en-US')]);
  const head = ['layer', 'type', 'output shape', 'trainable', 'non-trainable'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `model: ${s.name}`,
    fmt(head),
    rule,
    ...rows.map(fmt),
    rule,
    `trainable parameters:     ${s.trainable.toLocaleString('en-US')}`,
    `non-trainable parameters: ${s.nonTrainable.toLocaleString('en-US')} (BatchNorm running mean and variance)`,
  ].join('\n');
}
