/**
 * BatchNorm over a batch of m scalars, exactly as the report sets it up (Ioffe & Szegedy 2015, Alg. 1):
 *   mu = (1/m) sum x_k,  sigma2 = (1/m) sum (x_k - mu)^2  (biased, as in training),
 *   xhat_k = (x_k - mu) / sqrt(sigma2 + eps),  y_k = gamma xhat_k + beta.
 * The loss is l = sum dy_k y_k. That is no loss of generality: every gradient of any loss l(y) with
 * respect to x, gamma, beta or an intermediate node depends on l only through dl/dy, which is dy.
 */
import { tf, tidyValues, toFloat64 } from '../tf.js';
import type { Rng } from '../random.js';
import type { Section } from './types.js';

function sampleBatch(m: number, rng: Rng, nice: boolean): Record<string, number> {
  for (;;) {
    const p: Record<string, number> = {};
    const center = nice ? 0 : rng.uniform(-2, 2);
    const spread = nice ? 0 : rng.uniform(0.3, 2);
    for (let k = 1; k <= m; k++) {
      p[`x_${k}`] = nice ? rng.int(-3, 3) : rng.normal(center, spread);
      p[`dy_${k}`] = nice ? rng.int(-2, 2) : rng.normal(0, 1);
    }
    p.gamma = nice ? 2 : rng.pick([-1, 1]) * rng.uniform(0.3, 3);
    p.beta = nice ? 1 : rng.normal(0, 1);
    p.eps = nice ? 0.001 : 10 ** rng.uniform(-5, -1);
    // A batch of (nearly) equal values has sigma2 ~ 0, where every gradient blows up like sigma^-3
    // and finite differences stop meaning anything; such a batch says nothing about the algebra.
    const xs = Array.from({ length: m }, (_, k) => p[`x_${k + 1}`]);
    const mu = xs.reduce((a, b) => a + b, 0) / m;
    const sigma2 = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / m;
    const dyNonzero = Array.from({ length: m }, (_, k) => p[`dy_${k + 1}`]).some((v) => v !== 0);
    if (sigma2 > 0.05 && dyNonzero) return p;
  }
}

function vectors(m: number, base: Record<string, number>) {
  const xs = Array.from({ length: m }, (_, k) => base[`x_${k + 1}`]);
  const dys = Array.from({ length: m }, (_, k) => base[`dy_${k + 1}`]);
  return { xs, dys };
}

/** The same function in tfjs ops, one version per graph node we take the gradient at. */
const autodiff = (m: number, base: Record<string, number>, quantity: string): Float64Array | null =>
  tidyValues(() => {
    const { xs, dys } = vectors(m, base);
    const x = tf.tensor1d(xs);
    const dy = tf.tensor1d(dys);
    const gamma = tf.scalar(base.gamma);
    const beta = tf.scalar(base.beta);
    const eps = tf.scalar(base.eps);
    const lossOfXhat = (xhat: tf.Tensor, g: tf.Tensor = gamma, b: tf.Tensor = beta) => tf.sum(tf.mul(dy, tf.add(tf.mul(g, xhat), b))) as tf.Scalar;
    const normalise = (xv: tf.Tensor, mu: tf.Tensor, sigma2: tf.Tensor) => tf.div(tf.sub(xv, mu), tf.sqrt(tf.add(sigma2, eps)));
    const varianceAbout = (xv: tf.Tensor, mu: tf.Tensor) => tf.mean(tf.square(tf.sub(xv, mu)));
    const mu = tf.mean(x);
    const sigma2 = varianceAbout(x, mu);
    const xhat = normalise(x, mu, sigma2);
    switch (quantity) {
      case 'grad(xhat[i])':
        return toFloat64(tf.grad((xh) => lossOfXhat(xh))(xhat));
      case 'grad(sigma2)':
        return toFloat64(tf.grad((s) => lossOfXhat(normalise(x, mu, s)))(sigma2));
      case 'grad(mu)':
        return toFloat64(tf.grad((mv) => lossOfXhat(normalise(x, mv, varianceAbout(x, mv))))(mu));
      case 'grad(x[i])':
        return toFloat64(
          tf.grad((xv) => {
            const mv = tf.mean(xv);
            return lossOfXhat(normalise(xv, mv, varianceAbout(xv, mv)));
          })(x),
        );
      case 'grad(gamma)':
        return toFloat64(tf.grad((g) => lossOfXhat(xhat, g))(gamma));
      case 'grad(beta)':
        return toFloat64(tf.grad((b) => lossOfXhat(xhat, gamma, b))(beta));
      default:
        return null;
    }
  });

/**
 * tfjs-layers' BatchNormalization in training mode on an [m, 1] batch: batch statistics, gradients
 * flowing through the mean and variance. It exposes dl/dx, dl/dgamma and dl/dbeta only.
 */
const layerAutodiff = (m: number, base: Record<string, number>, quantity: string): Float64Array | null => {
  if (!['grad(x[i])', 'grad(gamma)', 'grad(beta)'].includes(quantity)) return null;
  const layer = tf.layers.batchNormalization({ axis: -1, epsilon: base.eps, momentum: 0.99 });
  layer.build([null, 1]);
  try {
    return tidyValues(() => {
      layer.setWeights([tf.tensor1d([base.gamma]), tf.tensor1d([base.beta]), tf.zeros([1]), tf.ones([1])]);
      const { xs, dys } = vectors(m, base);
      const x = tf.tensor2d(xs, [m, 1]);
      const dy = tf.tensor2d(dys, [m, 1]);
      const loss = (xv: tf.Tensor) => tf.sum(tf.mul(layer.apply(xv, { training: true }) as tf.Tensor, dy)) as tf.Scalar;
      if (quantity === 'grad(x[i])') return toFloat64(tf.grad(loss)(x));
      const [gammaW, betaW] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => loss(x), [gammaW, betaW]);
      return toFloat64(grads[quantity === 'grad(gamma)' ? gammaW.name : betaW.name]);
    });
  } finally {
    // Layer.dispose() refuses a layer never called symbolically; its variables are what hold memory.
    for (const w of layer.weights) w.dispose();
  }
};

export const batchnorm: Section = {
  name: 'batchnorm',
  title: 'Batch normalization (training mode, batch of m)',
  size: { symbol: 'm', values: [2, 3, 4, 5, 6] },
  index: 'i',
  nodes: [
    { name: 'mu', body: 'sum(k, x[k]) / m' },
    { name: 'sigma2', body: 'sum(k, (x[k] - mu)^2) / m' },
    { name: 'xhat', index: 'k', body: '(x[k] - mu) / sqrt(sigma2 + eps)' },
    { name: 'y', index: 'k', body: 'gamma * xhat[k] + beta' },
    { name: 'l', body: 'sum(k, dy[k] * y[k])' },
  ],
  loss: 'l',
  conditions: [{ expr: 'gamma == 1', text: 'γ = 1' }],
  imposable: ['gamma', 'beta'],
  sample: (m, count, rng, nice) => Array.from({ length: count }, () => sampleBatch(m!, rng, nice)),
  closedForms: [
    { quantity: 'grad(xhat[i])', label: '∂ℓ/∂x̂_i', closed: 'dy[i] * gamma' },
    {
      quantity: 'grad(sigma2)',
      label: '∂ℓ/∂σ²_B',
      closed: 'sum(k, dy[k] * gamma * (x[k] - mu)) * (-1/2) * (sigma2 + eps)^(-3/2)',
    },
    {
      quantity: 'grad(mu)',
      label: '∂ℓ/∂μ_B',
      closed: 'sum(k, dy[k] * gamma) * (-1 / sqrt(sigma2 + eps))' + ' + sum(k, dy[k] * gamma * (x[k] - mu)) * (-1/2) * (sigma2 + eps)^(-3/2) * sum(k, -2 * (x[k] - mu)) / m',
    },
    {
      quantity: 'grad(x[i])',
      label: '∂ℓ/∂x_i',
      closed: 'gamma / (m * sqrt(sigma2 + eps)) * (m * dy[i] - sum(k, dy[k]) - xhat[i] * sum(k, dy[k] * xhat[k]))',
    },
    { quantity: 'grad(gamma)', label: '∂ℓ/∂γ', closed: 'sum(k, dy[k] * xhat[k])' },
    { quantity: 'grad(beta)', label: '∂ℓ/∂β', closed: 'sum(k, dy[k])' },
  ],
  autodiff,
  layerAutodiff,
  describe: (m, s) => {
    const out: Record<string, number> = {};
    for (let k = 1; k <= m!; k++) out[`x_${k}`] = s[`x_${k}`];
    for (let k = 1; k <= m!; k++) out[`dy_${k}`] = s[`dy_${k}`];
    out.gamma = s.gamma;
    out.beta = s.beta;
    out.eps = s.eps;
    out.mu = s.mu;
    out.sigma2 = s.sigma2;
    return out;
  },
};
