import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from '../errors.js';
import { readJson, settledDir, writeDirAtomic } from '../files.js';
import type { EpochRecord } from './history.js';
import { loadModel, modelArtifacts } from './model-files.js';
import { restoreOptimizerState } from '../training/optimizers.js';

/** Training state beside the weights in a checkpoint: where to continue from. */
export interface CheckpointState {
  /** Epochs completed. */
  epoch: number;
  /** Batches completed of the epoch after `epoch` (non-zero when interrupted mid-epoch). */
  batchesDone: number;
  /** Running sums of the interrupted epoch, so its numbers come out as if never stopped. */
  partial?: { lossSum: number; correct: number; seen: number; seconds: number };
  history: EpochRecord[];
  bestValAcc: number;
  bestEpoch: number;
  savedAt: string;
}

/** Saves weights, the optimizer's state (Adam's moments, SGD's momentum, the step count) and the training state as one directory, atomically. */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: CheckpointState): Promise<void> {
  const { json, weights } = await modelArtifacts(model);
  const opt = await optimizer.getWeights();
  const encoded = await tf.io.encodeWeights(opt.map((w, i) => ({ name: `w${i}`, tensor: w.tensor })));
  const optData = encoded.data instanceof ArrayBuffer ? new Uint8Array(encoded.data) : new Uint8Array(tf.io.concatenateArrayBuffers(encoded.data as ArrayBuffer[]));
  // getWeights makes a new scalar for the iteration count each call (the rest are the live moments)
  tf.dispose(opt.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  await writeDirAtomic(dir, {
    'model.json': json,
    'weights.bin': weights,
    'optimizer.bin': optData,
    'state.json': JSON.stringify({ ...state, optimizer: { className: optimizer.getClassName(), specs: encoded.specs } }, null, 2),
  });
}

/** Loads a checkpoint written by saveCheckpoint; restores the optimizer's state into `optimizer`, which must be of the same kind. */
export async function loadCheckpoint(dir: string, optimizer: tf.Optimizer): Promise<{ model: tf.LayersModel; state: CheckpointState }> {
  const d = settledDir(dir);
  if (!existsSync(path.join(d, 'state.json'))) {
    throw new FerError(`${dir} holds no checkpoint`, { hint: 'a run can be resumed only after it has saved one (at the end of an epoch, or on Ctrl-C)' });
  }
  const model = await loadModel(d);
  const state = await readJson<CheckpointState & { optimizer: { className?: string; specs: tf.io.WeightsManifestEntry[] } }>(path.join(d, 'state.json'), 'checkpoint');
  // checkpoints from before the class was recorded were all Adam's
  const saved = state.optimizer.className ?? 'Adam';
  if (saved !== optimizer.getClassName()) {
    throw new FerError(`${d} holds the state of a ${saved} optimizer, but this run trains with ${optimizer.getClassName()}`, {
      hint: 'resume with the optimizer the run started with (its run.json config), or start a new run with --out',
    });
  }
  const buf = await readFile(path.join(d, 'optimizer.bin'));
  const expected = state.optimizer.specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expected) throw new FerError(`${d}/optimizer.bin holds ${buf.length} bytes, state.json describes ${expected}`, { hint: 'the checkpoint is corrupt' });
  const named = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), state.optimizer.specs);
  // Adam and SGD match their state to variables by position, so names do not matter; order is trainableWeights'.
  await optimizer.setWeights(state.optimizer.specs.map((s) => ({ name: s.name, tensor: named[s.name] })));
  tf.dispose(Object.values(named)); // setWeights copies them into variables
  restoreOptimizerState(optimizer);
  return { model, state };
}
