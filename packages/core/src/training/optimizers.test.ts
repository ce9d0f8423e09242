import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/select.js';
import { tinyCnn } from '../models/tiny.js';
import { batchGradients } from './gradients.js';
import { createOptimizer, decaysWeight, restoreOptimizerState, setLearningRate } from './optimizers.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** The mean over the faces of -sum_c target(n, c) log softmax(logits)_c, from the model's logits (training mode), in float64. */
function crossEntropyByHand(model: tf.LayersModel, x: Float32Array, target: (n: number, c: number) => number): number {
  const count = x.length / 2304;
  const logits = tf.tidy(() => (model.apply(tf.tensor4d(x, [count, 48, 48, 1]), { training: true }) as tf.Tensor).arraySync() as number[][]);
  let sum = 0;
  logits.forEach((row, n) => {
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((acc, z) => acc + Math.exp(z - max), 0));
    row.forEach((z, c) => {
      sum -= target(n, c) * (z - logZ);
    });
  });
  return sum / count;
}

describe('optimizers', () => {
  it("SGD with Nesterov momentum makes PyTorch's update: v = m v + g, w -= lr (g + m v)", () => {
    const w = tf.variable(tf.tensor1d([1, -2, 3]), true, 'sgdtest/kernel');
    const opt = createOptimizer({ name: 'sgd', momentum: 0.9, nesterov: true }, 0.1);
    const grads = [
      [0.5, -1, 2],
      [0.25, 0.5, -1],
    ];
    const ref = [1, -2, 3];
    const v = [0, 0, 0];
    for (const [step, g] of grads.entries()) {
      const lr = step === 0 ? 0.1 : 0.05;
      setLearningRate(opt, lr);
      opt.applyGradients({ 'sgdtest/kernel': tf.tensor1d(g) });
      for (let i = 0; i < 3; i++) {
        v[i] = 0.9 * v[i] + g[i];
        ref[i] -= lr * (g[i] + 0.9 * v[i]);
      }
      const got = w.dataSync();
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(ref[i], 6);
    }
    opt.dispose();
    w.dispose();
  });

  it("a loaded Adam's bias corrections are the float32 products the uninterrupted run had, not tfjs's pow", async () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'restore/kernel');
    const running = createOptimizer({ name: 'adam' }, 0.01);
    for (let i = 0; i < 300; i++) running.applyGradients({ [w.name]: tf.tensor1d([0.1, -0.1]) });
    const loaded = createOptimizer({ name: 'adam' }, 0.01);
    await loaded.setWeights(await running.getWeights());
    const acc = (o: tf.Optimizer) => [(o as unknown as { accBeta1: tf.Variable }).accBeta1.dataSync()[0], (o as unknown as { accBeta2: tf.Variable }).accBeta2.dataSync()[0]];
    const viaPow = acc(loaded);
    restoreOptimizerState(loaded);
    expect(acc(loaded)).toEqual(acc(running));
    expect(viaPow).not.toEqual(acc(running)); // what tfjs's setWeights alone gives (and why resumed runs drifted)
    running.dispose();
    loaded.dispose();
    w.dispose();
  });

  it('weight decay applies to conv and dense kernels only, not to biases or BatchNorm', () => {
    expect(['conv1/kernel', 'fc1/kernel', 'logits/kernel_3', 'conv2/kernel_12'].every(decaysWeight)).toBe(true);
    expect(['conv1/bias', 'bn3/gamma', 'bn3/beta', 'bn3/moving_mean', 'logits/bias_2'].some(decaysWeight)).toBe(false);
  });

  it('batchGradients adds wd * w to the decayed kernels and leaves the rest', () => {
    const model = tinyCnn({ seed: 2 });
    const x = Float32Array.from({ length: 4 * 2304 }, (_, i) => ((i * 7) % 255) / 255);
    const labels = Int32Array.from([0, 3, 5, 6]);
    const plain = batchGradients(model, x, labels);
    const decayed = batchGradients(model, x, labels, { weightDecay: 0.01 });
    expect(decayed.loss).toBeCloseTo(plain.loss, 6); // decay is not part of the reported loss
    model.trainableWeights.forEach((w, i) => {
      const expected = tf.tidy(() => (decaysWeight((w.read() as tf.Variable).name) ? tf.add(plain.grads[i], tf.mul(w.read(), 0.01)) : plain.grads[i]).dataSync());
      const got = decayed.grads[i].dataSync();
      let diff = 0;
      for (let j = 0; j < got.length; j++) diff = Math.max(diff, Math.abs(got[j] - expected[j]));
      expect(diff, w.name).toBeLessThan(1e-6);
    });
    tf.dispose([...plain.grads, ...decayed.grads]);
    model.dispose();
  });

  it("distillation: the loss and gradients are (1 - w) x the labels' + w x the teacher's cross-entropy", () => {
    const model = tinyCnn({ seed: 7 });
    const x = Float32Array.from({ length: 3 * 2304 }, (_, i) => ((i * 11) % 255) / 255);
    const labels = Int32Array.from([2, 0, 6]);
    // a teacher that disagrees with the labels, rows summing to 1
    const soft = Float32Array.from({ length: 21 }, (_, i) => ((i * 5) % 7) + 1);
    for (let n = 0; n < 3; n++) {
      const row = soft.subarray(n * 7, n * 7 + 7);
      const sum = row.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 7; c++) row[c] /= sum;
    }
    const s = 0.1;
    const w = 0.3;
    const labelsOnly = batchGradients(model, x, labels, { labelSmoothing: s });
    const teacherOnly = batchGradients(model, x, labels, { labelSmoothing: s, teacherWeight: 1 }, soft);
    const mixed = batchGradients(model, x, labels, { labelSmoothing: s, teacherWeight: w }, soft);
    expect(teacherOnly.loss).not.toBeCloseTo(labelsOnly.loss, 2); // the teacher's target is another target
    expect(mixed.loss).toBeCloseTo((1 - w) * labelsOnly.loss + w * teacherOnly.loss, 5);
    expect(mixed.correct).toBe(labelsOnly.correct); // accuracy still counts against the labels
    expect(teacherOnly.loss).toBeCloseTo(
      crossEntropyByHand(model, x, (n, c) => soft[n * 7 + c]),
      5,
    );
    mixed.grads.forEach((g, i) => {
      const want = tf.tidy(() => tf.add(tf.mul(labelsOnly.grads[i], 1 - w), tf.mul(teacherOnly.grads[i], w)).dataSync());
      const got = g.dataSync();
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < got.length; j++) {
        diff = Math.max(diff, Math.abs(got[j] - want[j]));
        scale = Math.max(scale, Math.abs(want[j]));
      }
      expect(diff, model.trainableWeights[i].name).toBeLessThan(1e-5 * Math.max(1, scale));
    });
    expect(() => batchGradients(model, x, labels, { teacherWeight: w }, soft.subarray(0, 14))).toThrow(/14 values for 3 faces/);
    tf.dispose([...labelsOnly.grads, ...teacherOnly.grads, ...mixed.grads]);
    model.dispose();
  });

  it("label smoothing gives PyTorch's smoothed cross-entropy", () => {
    const model = tinyCnn({ seed: 5 });
    const x = Float32Array.from({ length: 2 * 2304 }, (_, i) => ((i * 13) % 255) / 255);
    const labels = Int32Array.from([1, 4]);
    const s = 0.1;
    const got = batchGradients(model, x, labels, { labelSmoothing: s });
    expect(got.loss).toBeCloseTo(
      crossEntropyByHand(model, x, (n, c) => (c === labels[n] ? 1 - s : 0) + s / 7),
      5,
    );
    tf.dispose(got.grads);
    model.dispose();
  });
});
