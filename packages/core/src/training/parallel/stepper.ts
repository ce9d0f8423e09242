import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NUM_CLASSES, PIXELS_PER_IMAGE } from '../../classes.js';
import type { ModelName, ModelOptions } from '../../models/index.js';
import type { LossOptions } from '../gradients.js';
import { packWeights, unpackWeights } from '../gradients.js';
import { fusedAdamStep } from '../../backend/native/adam.js';
import type { PredictReply, PredictRequest, StepReply, StepRequest, WorkerInit } from './protocol.js';
import type { BatchStepper } from '../stepper.js';

/** The data-parallel stepper can also spread inference over its workers. */
export interface DataParallelStepper extends BatchStepper {
  /** Logits (n x 7, inference mode) of the main model's current weights, the batch split over the workers. */
  predict(x: Float32Array): Promise<Float32Array>;
  /** Milliseconds of the last step: wall time, and each worker's own compute time. */
  lastStepTimes(): { wallMs: number; workerMs: number[] };
  /** tf.memory().numTensors in each worker after the last step (stable from the second step on). */
  workerTensors(): number[];
}

export interface StepperOptions {
  model: tf.LayersModel;
  modelName: ModelName;
  modelOptions?: ModelOptions;
  /** Label smoothing and weight decay (in the workers' gradients). */
  loss?: LossOptions;
  /** Applies the averaged gradients on the main thread; its state (Adam's moments) is what checkpoints save. */
  optimizer: tf.Optimizer;
  workers: number;
}

const here = (() => {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return __filename;
  }
})();

/**
 * Where the worker script is: beside this file when running from TypeScript source (src/training/parallel/) or
 * vitest, or the build's own `parallel-worker` entry when this code is bundled into dist/index.
 */
function workerScript(): { file: string; ts: boolean } {
  const dir = dirname(here);
  const ts = here.endsWith('.ts') || here.endsWith('.mts');
  const candidates = ts ? [join(dir, 'worker.ts')] : [join(dir, 'parallel-worker.js'), join(dir, 'parallel-worker.cjs'), join(dir, 'parallel', 'worker.js')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`data-parallel worker script not found (looked for ${candidates.join(', ')})`);
  return { file, ts: file.endsWith('.ts') };
}

/**
 * Starts the worker. A worker on a .ts file needs tsx's loader in its own thread, and Node 20 does
 * not apply `--import tsx` from execArgv to a worker's entry file, so the worker starts from a tiny
 * script that registers tsx's ESM hooks and then imports the real one (vitest needs the same).
 */
function startWorker(file: string, ts: boolean, workerData: WorkerInit): Worker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  if (!ts) return new Worker(file, { workerData, execArgv });
  let api = 'tsx/esm/api';
  try {
    api = pathToFileURL(createRequire(here).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  } catch {
    /* resolved from the working directory instead */
  }
  const boot = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`;
  const conditions = execArgv.some((a) => a.includes('conditions')) ? execArgv : [...execArgv, '--conditions=source'];
  return new Worker(boot, { eval: true, workerData, execArgv: conditions });
}

interface Slot {
  worker: Worker;
  /** The main model's weight buffers (dataIds) this worker last received for predict. */
  held?: object[];
  pending?: { resolve: (r: StepReply | PredictReply) => void; reject: (e: Error) => void };
}

/** Splits n into `parts` shares as even as possible (first shares one larger). */
export function shareSizes(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < n % parts ? 1 : 0));
}

/**
 * sum_i shares[i] * parts[i], as a running float32 total in the order of `parts`. Tight loops over local typed
 * arrays: a closure reading `reply.grads[j]` took 5-12 ms a step for the seed CNN's 538,759 gradients, a
 * tenth of a data-parallel step at batch 64.
 */
export function weightedSum(parts: Float32Array[], shares: number[]): Float32Array {
  const out = new Float32Array(parts[0].length);
  const n = out.length;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const s = shares[i];
    if (p.length !== n) throw new Error(`weightedSum: part ${i} has ${p.length} values, part 0 ${n}`);
    if (i === 0) for (let j = 0; j < n; j++) out[j] = s * p[j];
    else for (let j = 0; j < n; j++) out[j] += s * p[j];
  }
  return out;
}

/**
 * Data-parallel training over worker_threads. The main thread keeps the source-of-truth model and
 * Adam optimizer (checkpoints save them as usual); each step it sends the current weights and a
 * share of the batch to every worker, averages their gradients weighted by share (so the update is
 * that of the full-batch mean loss), applies them with the optimizer, and takes the BatchNorm moving
 * statistics as the share-weighted mean of the workers' (each worker's batch statistics come from
 * its share only, as in PyTorch's DataParallel without SyncBatchNorm).
 */
export async function createDataParallelStepper(opts: StepperOptions): Promise<DataParallelStepper> {
  const { model, modelName, optimizer } = opts;
  const count = Math.max(1, Math.floor(opts.workers));
  const { file, ts } = workerScript();
  const init: WorkerInit = { modelName, modelOptions: opts.modelOptions, loss: opts.loss, backend: tf.getBackend() === 'tensorflow' ? 'node' : tf.getBackend() };
  const slots: Slot[] = [];
  await Promise.all(
    Array.from({ length: count }, async () => {
      const worker = startWorker(file, ts, init);
      const slot: Slot = { worker };
      slots.push(slot);
      await new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', (m: { type: string; message?: string }) => (m.type === 'ready' ? resolve() : reject(new Error(`worker failed to start: ${m.message}`))));
      });
      worker.on('message', (m: StepReply | PredictReply | { type: 'error'; message: string }) => {
        const p = slot.pending;
        slot.pending = undefined;
        if (m.type !== 'error') p?.resolve(m);
        else p?.reject(new Error(m.message));
      });
      worker.on('error', (e) => slot.pending?.reject(e));
    }),
  );
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let closed = false;
  let times = { wallMs: 0, workerMs: [] as number[] };
  // A weight's dataId changes whenever it is written (a step, setWeights, loading a checkpoint), so
  // predict resends the weights only to workers whose copy is stale.
  const weightIds = () => model.weights.map((w) => (w.read() as unknown as { dataId: object }).dataId);
  const same = (a: object[] | undefined, b: object[]) => !!a && a.length === b.length && a.every((v, i) => v === b[i]);
  let workerTensors: number[] = [];

  function ask(slot: Slot, req: StepRequest): Promise<StepReply>;
  function ask(slot: Slot, req: PredictRequest): Promise<PredictReply>;
  function ask(slot: Slot, req: StepRequest | PredictRequest): Promise<StepReply | PredictReply> {
    return new Promise((resolve, reject) => {
      slot.pending = { resolve, reject };
      slot.worker.postMessage(req, req.type === 'step' ? [req.x.buffer as ArrayBuffer, req.labels.buffer as ArrayBuffer] : [req.x.buffer as ArrayBuffer]);
    });
  }

  return {
    async step(x, labels, soft) {
      if (closed) throw new Error('stepper is disposed');
      const t0 = performance.now();
      const n = labels.length;
      const sizes = shareSizes(n, slots.length).filter((s) => s > 0);
      const weights = packWeights(model);
      let start = 0;
      const replies = await Promise.all(
        sizes.map((s, i) => {
          const req: StepRequest = { type: 'step', weights, x: x.slice(start * PIXELS_PER_IMAGE, (start + s) * PIXELS_PER_IMAGE), labels: labels.slice(start, start + s) };
          if (soft) req.soft = soft.slice(start * NUM_CLASSES, (start + s) * NUM_CLASSES);
          start += s;
          return ask(slots[i], req);
        }),
      );
      const shares = sizes.map((s) => s / n);
      // Share-weighted mean of the gradients and of the post-step BatchNorm statistics.
      const gradSum = weightedSum(
        replies.map((r) => r.grads),
        shares,
      );
      const stateSum = weightedSum(
        replies.map((r) => r.weights),
        shares,
      );
      applyPacked(optimizer, vars, gradSum);
      if (stateSum.length) unpackWeights(model, stateSum, true);
      times = { wallMs: performance.now() - t0, workerMs: replies.map((r) => r.ms) };
      workerTensors = replies.map((r) => r.numTensors);
      return {
        loss: replies.reduce((s, r, i) => s + shares[i] * r.loss, 0),
        correct: replies.reduce((s, r) => s + r.correct, 0),
      };
    },
    async predict(x) {
      const n = x.length / PIXELS_PER_IMAGE;
      const sizes = shareSizes(n, slots.length).filter((s) => s > 0);
      const ids = weightIds();
      const weights = slots.some((s, i) => i < sizes.length && !same(s.held, ids)) ? packWeights(model) : undefined;
      let start = 0;
      const parts = await Promise.all(
        sizes.map((s, i) => {
          const stale = !same(slots[i].held, ids);
          slots[i].held = ids;
          const req: PredictRequest = { type: 'predict', weights: stale ? weights : undefined, x: x.slice(start * PIXELS_PER_IMAGE, (start + s) * PIXELS_PER_IMAGE) };
          start += s;
          return ask(slots[i], req);
        }),
      );
      const out = new Float32Array(n * NUM_CLASSES);
      let o = 0;
      for (const p of parts) {
        out.set(p.logits, o);
        o += p.logits.length;
      }
      return out;
    },
    lastStepTimes: () => times,
    workerTensors: () => workerTensors,
    async sync() {
      // The main model is updated in every step already; nothing is in flight between steps.
    },
    async dispose() {
      if (closed) return;
      closed = true;
      await Promise.all(
        slots.map(async (s) => {
          s.worker.postMessage({ type: 'close' });
          await s.worker.terminate();
        }),
      );
    },
  };
}

/**
 * Applies gradients packed in trainableWeights order: fer's fused Adam straight from the wasm heap
 * where it applies, else tensors and optimizer.applyGradients.
 */
function applyPacked(optimizer: tf.Optimizer, vars: tf.Variable[], packed: Float32Array): void {
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as {
      makeOutput(s: number[], d: string): tf.TensorInfo;
      disposeData(id: object): void;
      dataIdMap: { get(id: object): { memoryOffset: number } };
      wasm: { HEAPF32: Float32Array };
    };
    const buf = backend.makeOutput([packed.length], 'float32');
    const base = backend.dataIdMap.get(buf.dataId).memoryOffset;
    backend.wasm.HEAPF32.set(packed, base / 4);
    const offsets: number[] = [];
    let o = 0;
    for (const v of vars) {
      offsets.push(base + 4 * o);
      o += v.size;
    }
    const done = fusedAdamStep(optimizer, vars, offsets);
    backend.disposeData(buf.dataId);
    if (done) return;
  }
  tf.tidy(() => {
    const named: Record<string, tf.Tensor> = {};
    let o = 0;
    for (const v of vars) {
      named[v.name] = tf.tensor(packed.subarray(o, o + v.size), v.shape);
      o += v.size;
    }
    optimizer.applyGradients(named as tf.NamedTensorMap as never);
  });
}
