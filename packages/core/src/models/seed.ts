import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../classes.js';
import { batchNorm, convBlock, torchInit, type ConvSpec } from './layers.js';

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
  for (const [i, s] of specs.entries()) convBlock(m, s, i + 1, seed, { batchNorm: i >= 2, leaky: true, first: i === 0 });
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: w(256), name: 'fc1', ...torchInit(3 * 3 * w(128), seed + 100) }));
  m.add(tf.layers.reLU({ name: 'relu_fc1' }));
  m.add(batchNorm('bn_fc1'));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', ...torchInit(w(256), seed + 110) }));
  return m;
}
