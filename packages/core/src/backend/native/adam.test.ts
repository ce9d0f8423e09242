import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../select.js';
import { fusedAdamCalls, fusedAdamStep } from './adam.js';
import { maxRelDiff, randomArray } from '../test_util.js';

describe('fused Adam', () => {
  beforeAll(async () => {
    tf.env().set('PROD', true);
    await selectBackend('wasm');
  });

  it("gives tfjs AdamOptimizer's weights and moments step after step, and layers compute with the new weights", async () => {
    const make = () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ units: 5, inputShape: [6], kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 }) }));
      m.add(tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 2 }) }));
      return m;
    };
    const [a, b] = [make(), make()];
    const [oa, ob] = [tf.train.adam(0.05), tf.train.adam(0.05)];
    const x = tf.tensor2d(randomArray(4 * 6, 3), [4, 6]);
    const calls = fusedAdamCalls.count;
    const grads = (m: tf.Sequential) => {
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar, vars);
      value.dispose();
      return { vars, list: vars.map((v) => g[v.name]), named: g };
    };
    for (let step = 0; step < 4; step++) {
      const ga = grads(a);
      if (!fusedAdamStep(oa, ga.vars, ga.list)) oa.applyGradients(ga.named as never);
      tf.dispose(ga.list);
      const gb = grads(b);
      ob.applyGradients(gb.named as never);
      tf.dispose(gb.list);
      // predict runs XNNPACK's fully-connected operator, which caches packed weights per buffer
      const pa = tf.tidy(() => (a.predict(x) as tf.Tensor).dataSync());
      const pb = tf.tidy(() => (b.predict(x) as tf.Tensor).dataSync());
      expect(maxRelDiff(pa as Float32Array, pb as Float32Array)).toBeLessThan(1e-5);
    }
    expect(fusedAdamCalls.count - calls).toBe(3); // the first step creates the moments the tfjs way
    const [wa, wb] = [await oa.getWeights(), await ob.getWeights()];
    expect(wa.length).toBe(wb.length);
    for (let i = 0; i < wa.length; i++) expect(maxRelDiff(wa[i].tensor.dataSync() as Float32Array, wb[i].tensor.dataSync() as Float32Array)).toBeLessThan(1e-5);
    for (const [i, w] of a.weights.entries()) expect(maxRelDiff(w.read().dataSync() as Float32Array, b.weights[i].read().dataSync() as Float32Array)).toBeLessThan(1e-5);
  });

  it('declines other optimizers', () => {
    const v = tf.variable(tf.ones([3]));
    expect(fusedAdamStep(tf.train.sgd(0.1), [v], [tf.ones([3])])).toBe(false);
  });
});
