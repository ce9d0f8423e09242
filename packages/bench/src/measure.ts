import * as tf from '@tensorflow/tfjs';
import { buildModel, createDataParallelStepper, createLocalStepper, IMAGE_SIZE, profileKernels, syntheticFaces, type KernelTime, type ModelName } from '@fer/core';

export interface BenchRow {
  /** 'wasm', 'wasm-parallel' (data-parallel over worker threads), 'tensorflow' (tfjs-node) or 'cpu'. */
  backend: string;
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  /** Threads doing the work: 1, or the data-parallel workers. */
  workers: number;
}

export interface KernelProfile {
  backend: string;
  batch: number;
  train: KernelTime[];
  infer: KernelTime[];
}

/** Calls fn (after `warmup` calls) until both minIters calls and minSeconds have passed; calls per second. */
export async function rate(fn: () => Promise<unknown> | unknown, minSeconds: number, minIters = 3, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    await fn();
    n++;
    const dt = (performance.now() - t0) / 1000;
    if (n >= minIters && dt >= minSeconds) return n / dt;
  }
}

function batchData(batch: number): { x: Float32Array; labels: Int32Array } {
  const d = syntheticFaces({ count: batch, seed: 1 });
  return { x: Float32Array.from(d.pixels, (v) => v / 255), labels: Int32Array.from(d.labels) };
}

/** Training (Adam) and inference images/s of a model (default seed) on this thread, on the current backend. */
export async function measureLocal(backend: string, batch: number, seconds: number, modelName: ModelName = 'seed'): Promise<BenchRow> {
  const model = buildModel(modelName);
  const stepper = createLocalStepper({ model, optimizer: tf.train.adam(1e-4) });
  const { x, labels } = batchData(batch);
  const train = await rate(() => stepper.step(x, labels), seconds);
  const xs = tf.tensor4d(x, [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const infer = await rate(() => tf.tidy(() => (model.predict(xs, { batchSize: batch }) as tf.Tensor).dataSync()), seconds);
  xs.dispose();
  tf.disposeVariables();
  return { backend, batch, trainImagesPerSec: train * batch, inferImagesPerSec: infer * batch, workers: 1 };
}

/** The same over `workers` data-parallel worker threads. */
export async function measureParallel(batch: number, workers: number, seconds: number, modelName: ModelName = 'seed'): Promise<BenchRow> {
  const model = buildModel(modelName);
  const stepper = await createDataParallelStepper({ model, modelName, optimizer: tf.train.adam(1e-4), workers });
  try {
    const { x, labels } = batchData(batch);
    const train = await rate(() => stepper.step(x, labels), seconds);
    const infer = await rate(() => stepper.predict(x), seconds);
    return { backend: `${tf.getBackend()}-parallel`, batch, trainImagesPerSec: train * batch, inferImagesPerSec: infer * batch, workers };
  } finally {
    await stepper.dispose();
    tf.disposeVariables();
  }
}

/** Per-kernel time of one training step (the mean of three) and one inference batch, on this thread. */
export async function profileBackend(backend: string, batch: number, modelName: ModelName = 'seed', opts: { byShape?: boolean } = {}): Promise<KernelProfile> {
  const model = buildModel(modelName);
  const stepper = createLocalStepper({ model, optimizer: tf.train.adam(1e-4) });
  const { x, labels } = batchData(batch);
  for (let i = 0; i < 2; i++) await stepper.step(x, labels);
  const p = profileKernels(tf.getBackend(), opts);
  try {
    const steps = 3;
    for (let i = 0; i < steps; i++) await stepper.step(x, labels);
    const train = p.report().map((r) => ({ ...r, ms: r.ms / steps, calls: r.calls / steps }));
    p.reset();
    const xs = tf.tensor4d(x, [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
    tf.tidy(() => (model.predict(xs, { batchSize: batch }) as tf.Tensor).dataSync());
    const infer = p.report();
    xs.dispose();
    return { backend, batch, train, infer };
  } finally {
    p.stop();
    tf.disposeVariables();
  }
}
