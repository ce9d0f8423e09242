import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seedCnn, simpleCnn, summarizeModel, formatSummary, buildModel, vggCnn, MODEL_NAMES } from './index.js';
import { withFlags } from '../flags.js';
import { selectBackend } from '../backend/select.js';
import { saveModel } from '../rundir/model-files.js';

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

  it('vgg: four stages of two 3x3 conv + BatchNorm + ReLU [32, 64, 128, 256], GAP, dropout, 7 logits; 1,174,439 parameters', () => {
    expect(MODEL_NAMES).toContain('vgg');
    const m = vggCnn();
    const s = summarizeModel(m);
    // conv kernels 3x3xinxout, no bias (BatchNorm's offset follows)
    const convs = [
      [1, 32],
      [32, 32],
      [32, 64],
      [64, 64],
      [64, 128],
      [128, 128],
      [128, 256],
      [256, 256],
    ].reduce((t, [i, o]) => t + 9 * i * o, 0);
    expect(convs).toBe(288 + 9216 + 18432 + 36864 + 73728 + 147456 + 294912 + 589824);
    const bn = 2 * 2 * (32 + 64 + 128 + 256); // gamma and beta of 8 layers
    const dense = 256 * 7 + 7;
    expect(s.trainable).toBe(convs + bn + dense);
    expect(s.trainable).toBe(1174439);
    expect(s.nonTrainable).toBe(bn); // running mean and variance
    const stage = ['Conv2D', 'BatchNormalization', 'ReLU', 'Conv2D', 'BatchNormalization', 'ReLU'];
    expect(s.layers.map((l) => l.type)).toEqual([
      ...stage,
      'MaxPooling2D',
      ...stage,
      'MaxPooling2D',
      ...stage,
      'MaxPooling2D',
      ...stage,
      'GlobalAveragePooling2D',
      'Dropout',
      'Dense',
    ]);
    const shape = (name: string) => s.layers.find((l) => l.name === name)!.outputShape;
    expect(shape('conv1_1')).toEqual([null, 48, 48, 32]);
    expect(shape('pool1')).toEqual([null, 24, 24, 32]);
    expect(shape('pool3')).toEqual([null, 6, 6, 128]);
    expect(shape('relu4_2')).toEqual([null, 6, 6, 256]);
    expect(shape('gap')).toEqual([null, 256]);
    expect(shape('logits')).toEqual([null, 7]);
    expect(formatSummary(s)).toMatch(/trainable parameters: +1,174,439/);
    // the first conv is fer's InputConv2D (no dL/dimages in training); convs have no bias; PyTorch's BatchNorm and init
    expect(m.getLayer('conv1_1').getClassName()).toBe('FerInputConv2D');
    const cfg = (name: string) => m.getLayer(name).getConfig() as Record<string, unknown>;
    for (const name of ['conv1_1', 'conv2_2', 'conv4_2']) expect(cfg(name).useBias).toBe(false);
    expect(cfg('bn3_1').momentum as number).toBeCloseTo(0.9);
    expect(cfg('bn3_1').epsilon as number).toBeCloseTo(1e-5);
    expect(cfg('dropout').rate as number).toBeCloseTo(0.3);
    expect(cfg('logits').useBias).toBe(true);
    const k = m.getLayer('conv2_1').getWeights()[0].dataSync() as Float32Array;
    const bound = 1 / Math.sqrt(9 * 32);
    let max = 0;
    for (const v of k) max = Math.max(max, Math.abs(v));
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.95 * bound);
    tf.disposeVariables();
  });

  it('vgg options: dropout rate, seed; width keeps channel counts multiples of 4 (at least 4)', () => {
    expect(vggCnn({ dropout: 0.5 }).getLayer('dropout').getConfig().rate as number).toBeCloseTo(0.5);
    for (const width of [1 / 8, 0.3, 0.5, 1.5]) {
      const convs = summarizeModel(vggCnn({ width })).layers.filter((l) => l.type === 'Conv2D');
      expect(convs).toHaveLength(8);
      for (const l of convs) {
        expect(l.outputShape[3]! % 4, `width ${width} ${l.name}`).toBe(0);
        expect(l.outputShape[3]).toBeGreaterThanOrEqual(4);
      }
    }
    expect(
      summarizeModel(vggCnn({ width: 0.5 }))
        .layers.filter((l) => l.type === 'Conv2D')
        .map((l) => l.outputShape[3]),
    ).toEqual([16, 16, 32, 32, 64, 64, 128, 128]);
    const a = buildModel('vgg', { seed: 4, width: 1 / 8 })
      .getWeights()[2]
      .dataSync();
    const b = buildModel('vgg', { seed: 4, width: 1 / 8 })
      .getWeights()[2]
      .dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    tf.disposeVariables();
  });

  it("vgg's saved model/ loads in plain TensorFlow.js (tf.loadLayersModel) and predicts the same", async () => {
    const m = vggCnn({ width: 1 / 8, seed: 2 });
    const x = tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 7);
    // a training step's worth of BatchNorm statistics, so that the moving averages are not the initial ones
    tf.tidy(() => {
      m.apply(x, { training: true });
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'fer-vgg-'));
    try {
      await saveModel(m, path.join(dir, 'model'));
      const json = JSON.parse(await readFile(path.join(dir, 'model', 'model.json'), 'utf8'));
      const weights = await readFile(path.join(dir, 'model', json.weightsManifest[0].paths[0]));
      expect(JSON.stringify(json.modelTopology)).not.toContain('FerInputConv2D');
      const loaded = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights),
          weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        }),
      );
      expect(loaded.layers[0].getClassName()).toBe('Conv2D');
      expect(summarizeModel(loaded).trainable).toBe(summarizeModel(m).trainable);
      const want = (m.predict(x) as tf.Tensor).dataSync();
      const got = (loaded.predict(x) as tf.Tensor).dataSync();
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
      loaded.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
      x.dispose();
      tf.disposeVariables();
    }
  });
});
