import * as tf from '@tensorflow/tfjs';

/**
 * The pure-JS cpu backend: it is always there, needs no native download, and implements every gradient
 * the checks use. Float32 only, which is why autodiff checks get a looser tolerance.
 */
export async function useCpuBackend(): Promise<void> {
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
}

export function toFloat64(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync());
}

export { tf };

/** tf.tidy for functions that return plain values (tf.tidy's types admit only tensor containers). */
export function tidyValues<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
