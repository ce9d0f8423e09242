import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { seedCnn, simpleCnn, summarizeModel, formatSummary, buildModel } from './index.js';
import { withFlags } from '../flags.js';
import { selectBackend } from '../backend/select.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('models', () => {
  it("seed has the report's layers and PyTorch's 538,759 trainable parameters", () => {
    const s = summarizeModel(seedCnn());
    // PyTorch: conv 832 + 18,496 + 73,856 + 147,584; BN 256 + 256 + 512; linear 295,168 + 1,799
    expect(s.trainable).toBe(832 + 18496 + 73856 + 147584 + 256 + 256 + 512 + 295168 + 1799);
    expect(s.trainable).toBe(538759);
    expect(s.nonTrainable).toBe(1024); // running mean and variance of 128 + 128 + 256 channels
    const shape = (name: string) => s.layers.find((l) => l.name === name)!.outputShape;
    expect(shape('conv1')).toEqual([null, 48, 48, 32]);
    expect(shape('pool2')).toEqual([null, 12, 12, 64]);
    expect(shape('pool4')).toEqual([null, 3, 3, 128]);
    expect(shape('flatten')).toEqual([null, 1152]);
    expect(shape('logits')).toEqual([null, 7]);
    expect(s.layers.map((l) => l.type)).toEqual([
      'Conv2D',
      'LeakyReLU',
      'MaxPooling2D',
      'Conv2D',
      'LeakyReLU',
      'MaxPooling2D',
      'Conv2D',
      'LeakyReLU',
      'BatchNormalization',
      'MaxPooling2D',
      'Conv2D',
      'LeakyReLU',
      'BatchNormalization',
      'MaxPooling2D',
      'Flatten',
      'Dense',
      'ReLU',
      'BatchNormalization',
      'Dense',
    ]);
    expect(formatSummary(s)).toMatch(/trainable parameters: +538,759/);
  });

  it('uses PyTorch-style settings: LeakyReLU 0.05, BatchNorm momentum 0.1 (Keras 0.9) and eps 1e-5, uniform +-1/sqrt(fan_in) init', () => {
    const m = seedCnn({ seed: 5 });
    const cfg = (name: string) => m.getLayer(name).getConfig() as Record<string, unknown>;
    expect(cfg('leaky1').alpha).toBeCloseTo(0.05);
    expect(cfg('bn3').momentum).toBeCloseTo(0.9);
    expect(cfg('bn3').epsilon).toBeCloseTo(1e-5);
    const w = m.getLayer('fc1').getWeights()[0].dataSync();
    const bound = 1 / Math.sqrt(1152);
    let max = 0;
    for (const v of w) max = Math.max(max, Math.abs(v));
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.95 * bound);
  });

  it('simple is the 3-layer CNN [64, 128, 512]; the same seed builds the same weights', () => {
    const s = summarizeModel(simpleCnn());
    expect(s.layers.filter((l) => l.type === 'Conv2D').map((l) => l.outputShape[3])).toEqual([64, 128, 512]);
    expect(s.trainable).toBe(640 + 73856 + 590336 + 2 * (64 + 128 + 512) + 3591);
    expect(s.nonTrainable).toBe(2 * (64 + 128 + 512));
    const a = buildModel('seed', { seed: 9 }).getWeights()[0].dataSync();
    const b = buildModel('seed', { seed: 9 }).getWeights()[0].dataSync();
    const c = buildModel('seed', { seed: 10 }).getWeights()[0].dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(() => buildModel('resnet')).toThrow(/unknown model "resnet"/);
    tf.disposeVariables();
  });

  it('training computes no gradient with respect to the images, yet input gradients (saliency) still work', async () => {
    const m = seedCnn({ width: 1 / 8, seed: 3 });
    const x = tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 4);
    const y = tf.oneHot(tf.tensor1d([1, 5], 'int32'), 7);
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const prof = await tf.profile(() => tf.tidy(() => tf.dispose(tf.variableGrads(loss, vars).grads)));
    const inputGrads = prof.kernels.filter((k) => k.name === 'Conv2DBackpropInput' && k.outputShapes[0]?.[3] === 1);
    const filterGrads = prof.kernels.filter((k) => k.name === 'Conv2DBackpropFilter');
    expect(filterGrads).toHaveLength(4); // every conv layer's dW ...
    expect(inputGrads).toHaveLength(0); // ... but no dL/dimages
    // the same weights in a stock tf.layers.conv2d model: the same outputs and the same input gradients
    const stock = withFlags({ unfusedInputConv: false }, () => seedCnn({ width: 1 / 8, seed: 3 }));
    expect(stock.layers[0].getClassName()).toBe('Conv2D');
    stock.setWeights(m.getWeights());
    const f = (net: tf.LayersModel) => (im: tf.Tensor) => tf.sum(tf.mul(net.apply(im, { training: true }) as tf.Tensor, y));
    const g = tf.grad(f(m))(x);
    const gStock = tf.grad(f(stock))(x);
    expect(g.shape).toEqual([2, 48, 48, 1]);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
    expect(tf.max(tf.abs(tf.sub(g, gStock))).dataSync()[0]).toBeLessThan(1e-5 * tf.max(tf.abs(gStock)).dataSync()[0] + 1e-7);
    tf.dispose([x, y, g, gStock]);
    tf.disposeVariables();
  });
});
