import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './registry.js';

tf.env().set('PROD', true);

/** Random values in [-1, 1) from a small LCG, so failures reproduce. */
export function randomArray(size: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

export interface KernelInput {
  values: Float32Array;
  shape: number[];
}

/** Runs one kernel by name on a backend with the given inputs and returns its outputs as arrays. */
export async function runOn(
  backend: string,
  kernelName: string,
  inputs: Record<string, KernelInput>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }[]> {
  if (backend === 'wasm') registerWasmTrainingKernels();
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape);
    const out = tf.engine().runKernel(kernelName, ins as never, attrs as never) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => ({ values: t.dataSync() as Float32Array, shape: t.shape }));
  });
}

/** Largest |a-b| relative to max(1, |b|). */
export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
