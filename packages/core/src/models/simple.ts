import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../classes.js';
import { convBlock, torchInit, type ConvSpec } from './layers.js';

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
  for (const [i, s] of specs.entries()) convBlock(m, s, i + 1, seed, { batchNorm: true, leaky: false, first: i === 0 });
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', ...torchInit(512, seed + 110) }));
  return m;
}
