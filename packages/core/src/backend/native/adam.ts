import * as tf from '@tensorflow/tfjs';
import { flags } from '../../flags.js';
import { offsetOf, type WasmBackend } from '../wasm.js';
import { nativeModule } from './native.js';

/** How many fused Adam steps ran in this thread (tests check that the fused path was taken). */
export const fusedAdamCalls = { count: 0 };

interface AdamInternals {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { variable: tf.Variable }[];
  accumulatedSecondMoment: { variable: tf.Variable }[];
  incrementIterations(): void;
}

/**
 * One Adam step for `vars` on the wasm backend as one native pass per variable (adam_update in
 * native.c), instead of tfjs's eleven kernels per variable. The new weights
 * and moments are assigned to the optimizer's and model's own variables, so its state (checkpoints,
 * getWeights) is what tfjs's AdamOptimizer would hold. They go into new buffers rather than in place:
 * XNNPACK caches packed weights by buffer, so a weight must change buffer when it changes value.
 * `grads[i]` is a tensor, or a byte offset in the wasm heap of vars[i].size floats. Returns false,
 * having changed nothing, where it does not apply (another optimizer or backend, or moments not created
 * yet: tfjs creates them on its first step); the caller then runs optimizer.applyGradients.
 */
export function fusedAdamStep(optimizer: tf.Optimizer, vars: tf.Variable[], grads: (tf.Tensor | number)[]): boolean {
  if (!flags.fusedAdam || tf.getBackend() !== 'wasm' || optimizer.getClassName() !== 'Adam') return false;
  const backend = tf.backend() as WasmBackend;
  const mod = nativeModule(backend);
  const o = optimizer as unknown as AdamInternals;
  const m1 = o.accumulatedFirstMoment;
  const m2 = o.accumulatedSecondMoment;
  if (!mod || m1?.length !== vars.length || m2?.length !== vars.length) return false;
  for (let i = 0; i < vars.length; i++) {
    const m = m1[i].variable;
    const v = m2[i].variable;
    if (m.size !== vars[i].size || v.size !== vars[i].size || vars[i].dtype !== 'float32') return false;
  }
  const acc1 = o.accBeta1.dataSync()[0];
  const acc2 = o.accBeta2.dataSync()[0];
  const engine = tf.engine() as unknown as { makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor };
  for (let i = 0; i < vars.length; i++) {
    const g = grads[i];
    const [w, m, v] = [vars[i], m1[i].variable, m2[i].variable];
    const [wo, mo, vo] = [w, m, v].map((t) => backend.makeOutput(t.shape, 'float32') as tf.TensorInfo);
    // offsets only after the last makeOutput: the heap may grow, offsets stay valid
    mod.adam(
      offsetOf(backend, w),
      offsetOf(backend, m),
      offsetOf(backend, v),
      typeof g === 'number' ? g : offsetOf(backend, g),
      offsetOf(backend, wo),
      offsetOf(backend, mo),
      offsetOf(backend, vo),
      w.size,
      o.beta1,
      o.beta2,
      o.learningRate,
      o.epsilon,
      1 - acc1,
      1 - acc2,
    );
    [w, m, v].forEach((target, j) => {
      const t = engine.makeTensorFromTensorInfo([wo, mo, vo][j]);
      target.assign(t);
      t.dispose();
    });
  }
  tf.tidy(() => {
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
  });
  o.incrementIterations();
  fusedAdamCalls.count++;
  return true;
}
