import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from '../data/dataset.js';
import { FerError } from '../errors.js';
import { evaluateModel } from '../evaluation/evaluate.js';
import { toInput } from '../evaluation/predict.js';
import { buildModel, type ModelName } from '../models/index.js';
import { mulberry32, shuffledRange } from '../random.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState } from '../rundir/checkpoint.js';
import { writeHistory, type EpochRecord } from '../rundir/history.js';
import { saveModel } from '../rundir/model-files.js';
import { runPaths } from '../rundir/paths.js';
import { augmentBatch, isAugmenting, type AugmentOptions } from '../data/augment.js';
import type { ModelOptions } from '../models/index.js';
import type { LossOptions } from './gradients.js';
import { createOptimizer, setLearningRate, type OptimizerSpec } from './optimizers.js';
import { learningRateAt, type LrSchedule } from './schedules.js';
import { createLocalStepper, type BatchStepper } from './stepper.js';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  /** Seconds spent in this epoch so far. */
  seconds: number;
}

export interface TrainCallbacks {
  onBatch?(p: TrainProgress): void;
  onEpochEnd?(record: EpochRecord, history: EpochRecord[]): void | Promise<void>;
  /** Called with the phase name ('validate', 'checkpoint') so a UI can say what it waits for. */
  onPhase?(phase: string): void;
}

export interface TrainOptions {
  train: FaceDataset;
  validation: FaceDataset;
  model?: ModelName;
  epochs: number;
  batchSize: number;
  /** The base learning rate (the schedule's peak). */
  learningRate: number;
  /** How the rate changes over the run (schedules.ts); default constant, the report's. */
  lrSchedule?: LrSchedule;
  /** warmup-cosine: epochs of linear warm-up (default 1). */
  warmupEpochs?: number;
  /** Adam (default, the report's) or SGD with (Nesterov) momentum. */
  optimizer?: OptimizerSpec;
  /** Label smoothing and weight decay (gradients.ts). */
  loss?: LossOptions;
  /** Training-time augmentation of each batch, deterministic in (seed, epoch, row). */
  augment?: AugmentOptions;
  /** Distillation: the teachers' probabilities on each training face (train.size x 7), mixed into the target with loss.teacherWeight. */
  teacher?: Float32Array;
  /** The model's build options (dropout, width). */
  modelOptions?: ModelOptions;
  seed: number;
  /** The run directory: history, model/, checkpoints/ go here. */
  outDir: string;
  /** Continue from outDir/checkpoints/last. */
  resume?: boolean;
  /** Aborting (Ctrl-C) stops at the next batch boundary and saves a consistent checkpoint. */
  signal?: AbortSignal;
  /** Makes the stepper; defaults to the single-thread one. */
  makeStepper?: (model: tf.LayersModel, optimizer: tf.Optimizer, loss: LossOptions) => Promise<BatchStepper>;
  callbacks?: TrainCallbacks;
}

export interface TrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestValAcc: number;
  /** True when stopped by the signal (a checkpoint was saved). */
  interrupted: boolean;
  model: tf.LayersModel;
  /** Epoch the run started from (0 unless resumed). */
  startEpoch: number;
}

/** The epoch's order of training rows: a function of (seed, epoch) only, so a resumed run sees the same. */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  return shuffledRange(n, mulberry32((seed * 1_000_003 + epoch * 7919 + 17) >>> 0));
}

/**
 * Trains a model with Adam on `train`, validating on `validation` after each epoch. Writes history.json,
 * history.csv, model/ (the latest weights) and checkpoints/{last,best} (weights, Adam state, history)
 * to `outDir`, each atomically, so a crash or Ctrl-C never leaves a half-written run.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { train: data, validation, epochs, batchSize, learningRate, seed, outDir, signal, callbacks = {} } = options;
  if (!(epochs >= 1)) throw new FerError(`epochs must be at least 1 (got ${epochs})`);
  if (!(batchSize >= 1)) throw new FerError(`batch size must be at least 1 (got ${batchSize})`);
  for (let i = 0; i < data.size; i++)
    if (data.labels[i] < 0)
      throw new FerError(`${data.source}: row ${i + 1} has no label, so it cannot train`, { hint: 'train on a labelled file (fer2013.csv or train.csv), not test.csv' });
  await mkdir(outDir, { recursive: true });
  const dirs = runPaths(outDir);
  const optimizerSpec = options.optimizer ?? { name: 'adam' };
  const optimizer = createOptimizer(optimizerSpec, learningRate);
  const loss = options.loss ?? {};
  const augment = options.augment ?? {};
  const augmenting = isAugmenting(augment);
  const teacher = options.teacher;
  if (teacher && teacher.length !== data.size * NUM_CLASSES)
    throw new FerError(`the teachers' probabilities are for ${teacher.length / NUM_CLASSES} faces, and ${data.size} train`, { hint: "compute them on this run's training faces" });

  let model: tf.LayersModel;
  let state: CheckpointState = { epoch: 0, batchesDone: 0, history: [], bestValAcc: -1, bestEpoch: 0, savedAt: '' };
  if (options.resume) {
    if (!existsSync(dirs.last) && !existsSync(`${dirs.last}.old`)) {
      throw new FerError(`${outDir} has no checkpoint to resume from`, { hint: 'drop --resume to start a new run, or pass the --out of an earlier run' });
    }
    const c = await loadCheckpoint(dirs.last, optimizer);
    model = c.model;
    state = c.state;
  } else {
    model = buildModel(options.model ?? 'seed', { ...options.modelOptions, seed });
  }
  const startEpoch = state.epoch;
  const history = [...state.history];
  const stepper = options.makeStepper ? await options.makeStepper(model, optimizer, loss) : createLocalStepper({ model, optimizer, loss });
  const batches = Math.ceil(data.size / batchSize);
  const schedule = { schedule: options.lrSchedule ?? 'constant', baseLr: learningRate, epochs, batchesPerEpoch: batches, warmupEpochs: options.warmupEpochs } as const;
  const x = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const rowBuf = new Uint8Array(batchSize * PIXELS_PER_IMAGE);
  let interrupted = false;

  const checkpoint = async (epochDone: number, batchesDone: number, partial?: CheckpointState['partial']) => {
    callbacks.onPhase?.('checkpoint');
    await stepper.sync();
    state = { ...state, epoch: epochDone, batchesDone, partial, history: [...history], savedAt: new Date().toISOString() };
    await saveCheckpoint(dirs.last, model, optimizer, state);
  };

  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const perm = epochPermutation(data.size, seed, epoch);
      const resumeMid = epoch === startEpoch ? state.batchesDone : 0;
      const partial = epoch === startEpoch && state.partial ? state.partial : { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
      let { lossSum, correct, seen } = partial;
      const t0 = performance.now() - partial.seconds * 1000;
      for (let b = resumeMid; b < batches; b++) {
        if (signal?.aborted) {
          await checkpoint(epoch, b, { lossSum, correct, seen, seconds: (performance.now() - t0) / 1000 });
          interrupted = true;
          return { history, bestEpoch: state.bestEpoch, bestValAcc: state.bestValAcc, interrupted, model, startEpoch };
        }
        const s = b * batchSize;
        const e = Math.min(data.size, s + batchSize);
        const n = e - s;
        const labels = new Int32Array(n);
        const soft = teacher ? new Float32Array(n * NUM_CLASSES) : undefined;
        for (let i = 0; i < n; i++) {
          const r = perm[s + i];
          rowBuf.set(data.pixels.subarray(r * PIXELS_PER_IMAGE, (r + 1) * PIXELS_PER_IMAGE), i * PIXELS_PER_IMAGE);
          labels[i] = data.labels[r];
          soft?.set(teacher!.subarray(r * NUM_CLASSES, (r + 1) * NUM_CLASSES), i * NUM_CLASSES);
        }
        setLearningRate(optimizer, learningRateAt(schedule, epoch, b));
        if (augmenting) augmentBatch(rowBuf.subarray(0, n * PIXELS_PER_IMAGE), perm.subarray(s, e), epoch, seed, augment);
        const xb = toInput(rowBuf, 0, n, x);
        const r = await stepper.step(xb, labels, soft);
        if (!Number.isFinite(r.loss)) {
          throw new FerError(`the training loss became ${r.loss} at epoch ${epoch + 1}, batch ${b + 1}`, {
            hint: `lower --lr (now ${learningRate}); the last good checkpoint in ${dirs.last} is untouched and --resume continues from it`,
          });
        }
        lossSum += r.loss * n;
        correct += r.correct;
        seen += n;
        callbacks.onBatch?.({ epoch: epoch + 1, epochs, batch: b + 1, batches, loss: lossSum / seen, acc: correct / seen, seconds: (performance.now() - t0) / 1000 });
        if ((b & 3) === 3) await new Promise((res) => setImmediate(res)); // let signals through
      }
      callbacks.onPhase?.('validate');
      await stepper.sync();
      const v = await evaluateModel(stepper.predict ? (xb) => stepper.predict!(xb) : model, validation);
      const record: EpochRecord = {
        epoch: epoch + 1,
        loss: lossSum / seen,
        acc: correct / seen,
        val_loss: v.loss,
        val_acc: v.accuracy,
        seconds: (performance.now() - t0) / 1000,
        rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
        tensors: tf.memory().numTensors,
      };
      history.push(record);
      await writeHistory(outDir, history);
      await saveModel(model, dirs.model);
      if (record.val_acc > state.bestValAcc) {
        state.bestValAcc = record.val_acc;
        state.bestEpoch = record.epoch;
        await checkpoint(epoch + 1, 0);
        await saveCheckpoint(dirs.best, model, optimizer, state);
      } else {
        await checkpoint(epoch + 1, 0);
      }
      await callbacks.onEpochEnd?.(record, history);
    }
  } finally {
    await stepper.dispose();
    optimizer.dispose();
  }
  return { history, bestEpoch: state.bestEpoch, bestValAcc: state.bestValAcc, interrupted, model, startEpoch };
}
