import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE } from '../../classes.js';
import { type AttributionMethod, classesFor, faceTensor, imageCount, inBatches, inputGradients } from './types.js';

export type Baseline = 'black' | 'blur' | 'mean';

export interface IntegratedGradientsOptions {
  /** Points on the path from baseline to face (trapezoid rule). */
  steps?: number;
  /**
   * What "no information" looks like. black: all zeros (Captum's default). blur: the face blurred,
   * which keeps its light and outline and removes the fine features (Sturmfels et al. 2020), so the
   * attribution goes to what the features add. mean: the face's mean grey everywhere.
   */
  baseline?: Baseline;
  batchSize?: number;
}

/** A separable box blur repeated three times (close to a Gaussian) of each 48x48 face. */
export function blurFaces(images: Float32Array, radius: number): Float32Array {
  const S = IMAGE_SIZE;
  let a = images.slice();
  let b = new Float32Array(images.length);
  for (let pass = 0; pass < 6; pass++) {
    const horizontal = pass % 2 === 0;
    for (let base = 0; base < a.length; base += S * S) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          let sum = 0;
          let cnt = 0;
          for (let d = -radius; d <= radius; d++) {
            const xx = horizontal ? x + d : x;
            const yy = horizontal ? y : y + d;
            if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
            sum += a[base + yy * S + xx];
            cnt++;
          }
          b[base + y * S + x] = sum / cnt;
        }
      }
    }
    [a, b] = [b, a];
  }
  return a;
}

function baselineOf(x: Float32Array, kind: Baseline): Float32Array {
  if (kind === 'black') return new Float32Array(x.length);
  if (kind === 'blur') return blurFaces(x, 4);
  const out = new Float32Array(x.length);
  const P = IMAGE_SIZE * IMAGE_SIZE;
  for (let base = 0; base < x.length; base += P) {
    let m = 0;
    for (let i = 0; i < P; i++) m += x[base + i] / P;
    out.fill(m, base, base + P);
  }
  return out;
}

/**
 * Sundararajan et al. 2017: (face - baseline) times the gradient averaged along the straight path
 * between them. Its maps add up to logit(face) - logit(baseline) (completeness), checked in the tests.
 * Returns |attribution|; `integratedGradientsSigned` keeps the sign.
 */
export const integratedGradients: AttributionMethod<IntegratedGradientsOptions> = async (model, images, classIndex, options = {}) => {
  const signed = await integratedGradientsSigned(model, images, classIndex, options);
  for (let i = 0; i < signed.length; i++) signed[i] = Math.abs(signed[i]);
  return signed;
};

export const integratedGradientsSigned: AttributionMethod<IntegratedGradientsOptions> = async (model, images, classIndex, options = {}) => {
  const steps = options.steps ?? 32;
  const n = imageCount(images);
  return inBatches(images, classesFor(classIndex, n), options.batchSize ?? 16, async (x, c) => {
    const base = baselineOf(x, options.baseline ?? 'blur');
    const avg = new Float32Array(x.length);
    const point = new Float32Array(x.length);
    for (let k = 0; k <= steps; k++) {
      const alpha = k / steps;
      const w = (k === 0 || k === steps ? 0.5 : 1) / steps;
      for (let i = 0; i < x.length; i++) point[i] = base[i] + alpha * (x[i] - base[i]);
      const g = tf.tidy(() => inputGradients(model, faceTensor(point, c.length), c));
      const v = await g.data();
      g.dispose();
      for (let i = 0; i < avg.length; i++) avg[i] += w * v[i];
    }
    for (let i = 0; i < avg.length; i++) avg[i] *= x[i] - base[i];
    return avg;
  });
};
