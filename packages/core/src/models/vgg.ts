import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../classes.js';
import { flags } from '../flags.js';
import { batchNorm, InputConv2D, torchInit } from './layers.js';

export interface VggOptions {
  /** Initialisation seed. */
  seed?: number;
  /** Scales every stage's channel count (tests thin the model this way); counts stay multiples of 4, at least 4. */
  width?: number;
  /** Dropout rate before the logits, active only in training (default 0.3). */
  dropout?: number;
}

/** The four stages' channel counts at width 1. */
export const VGG_CHANNELS = [32, 64, 128, 256] as const;

/**
 * A VGG-style CNN chosen for accuracy per CPU-second: four stages of two 3x3 'same' convolutions (32,
 * 64, 128, 256 channels), each conv without bias followed by BatchNorm (PyTorch's momentum and eps) and
 * ReLU, a 2x2 max-pool after stages 1-3, then global average pooling, dropout and 256 -> 7 logits.
 * 1,174,439 trainable parameters at width 1. Every convolution is 3x3 stride 1 with channel counts that
 * are multiples of 4, so all three passes of each run on fer's Winograd kernels; the first (one input
 * channel, 32 out) runs on the one-channel kernel and, as InputConv2D, never computes dL/d(images) in
 * training.
 */
export function vggCnn(options: VggOptions = {}): tf.Sequential {
  const seed = options.seed ?? 0;
  // Multiples of 4 (fer's Winograd kernel needs them; below width 1 the first layer's 8 may not hold and it takes XNNPACK).
  const w = (n: number) => Math.max(4, 4 * Math.round((n * (options.width ?? 1)) / 4));
  const m = tf.sequential({ name: 'vgg' });
  let inChannels = 1;
  let index = 0;
  for (const [s, base] of VGG_CHANNELS.entries()) {
    const filters = w(base);
    for (let j = 1; j <= 2; j++) {
      const first = index === 0;
      const args: Parameters<typeof tf.layers.conv2d>[0] = {
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false, // BatchNorm's offset follows
        name: `conv${s + 1}_${j}`,
        ...(first ? { inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1] } : {}),
        kernelInitializer: torchInit(inChannels * 9, seed + 10 * index).kernelInitializer,
      };
      m.add(first && flags.unfusedInputConv ? new InputConv2D(args) : tf.layers.conv2d(args));
      m.add(batchNorm(`bn${s + 1}_${j}`));
      m.add(tf.layers.reLU({ name: `relu${s + 1}_${j}` }));
      inChannels = filters;
      index++;
    }
    if (s < VGG_CHANNELS.length - 1) m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${s + 1}` }));
  }
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dropout({ rate: options.dropout ?? 0.3, name: 'dropout' }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', ...torchInit(inChannels, seed + 110) }));
  return m;
}
