/**
 * Softmax over logits z_1..z_K followed by cross-entropy against a one-hot target c:
 *   yhat_k = e^{z_k} / sum_j e^{z_j},   l = -sum_k y_k log yhat_k,   y_k = [k = c].
 */
import { tf, tidyValues, toFloat64 } from '../tf.js';
import type { Rng } from '../random.js';
import type { Section } from './types.js';

function sampleLogits(K: number, target: number, rng: Rng, nice: boolean): Record<string, number> {
  const p: Record<string, number> = { c: target };
  for (let k = 1; k <= K; k++) {
    p[`z_${k}`] = nice ? rng.int(-2, 2) : rng.normal(0, 2);
    p[`y_${k}`] = k === target ? 1 : 0;
  }
  return p;
}

function logitsAndTarget(K: number, base: Record<string, number>) {
  const z = Array.from({ length: K }, (_, k) => base[`z_${k + 1}`]);
  const y = Array.from({ length: K }, (_, k) => base[`y_${k + 1}`]);
  return { z, y };
}

export const softmax: Section = {
  name: 'softmax',
  title: 'Softmax + cross-entropy over K classes, one-hot target c',
  size: { symbol: 'K', values: [2, 3, 4, 5, 6, 7, 8, 9, 10] },
  index: 't',
  nodes: [
    { name: 'yhat', index: 'k', body: 'exp(z[k]) / sum(j, exp(z[j]))' },
    { name: 'l', body: '-sum(k, y[k] * log(yhat[k]))' },
  ],
  loss: 'l',
  conditions: [{ expr: 't == c', text: 'y_t = 1 (t is the target class)' }],
  imposable: [],
  // The target cycles through every class, so each index t is seen both as the target and not.
  sample: (K, count, rng, nice) => Array.from({ length: count }, (_, j) => sampleLogits(K!, (j % K!) + 1, rng, nice)),
  closedForms: [{ quantity: 'grad(z[t])', label: '∂L/∂z_t', closed: 'yhat[t] - y[t]' }],
  autodiff: (K, base, quantity) => {
    if (quantity !== 'grad(z[t])') return null;
    return tidyValues(() => {
      const { z, y } = logitsAndTarget(K, base);
      const target = tf.tensor1d(y);
      const loss = (zv: tf.Tensor) => tf.neg(tf.sum(tf.mul(target, tf.log(tf.softmax(zv))))) as tf.Scalar;
      return toFloat64(tf.grad(loss)(tf.tensor1d(z)));
    });
  },
  layerAutodiff: (K, base, quantity) => {
    if (quantity !== 'grad(z[t])') return null;
    return tidyValues(() => {
      const { z, y } = logitsAndTarget(K, base);
      const onehot = tf.tensor2d(y, [1, K]);
      const loss = (zv: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, zv) as tf.Scalar;
      return toFloat64(tf.grad(loss)(tf.tensor2d(z, [1, K])));
    });
  },
  describe: (K, s) => {
    const out: Record<string, number> = {};
    for (let k = 1; k <= K!; k++) out[`z_${k}`] = s[`z_${k}`];
    out.c = s.c;
    return out;
  },
};
