import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, rm, writeFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FerError } from './errors.js';
import { IMAGE_SIZE } from './classes.js';
import { InputConv2D } from './models.js';

/** One row of history.json / history.csv. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  seconds: number;
  /** Resident memory of the whole process (all threads) at the end of the epoch, MiB. */
  rss_mb?: number;
  /** tf.memory().numTensors on the main thread at the end of the epoch (flat when nothing leaks). */
  tensors?: number;
}

/** Writes a file so that readers see the old or the new content, never half of one. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code})`, { hint: `is this the right ${what}?` });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new FerError(`${file} is not valid JSON (${(e as Error).message})`, { hint: `the ${what} is corrupt: restore it from a checkpoint or train again` });
  }
}

export async function writeHistory(runDir: string, history: EpochRecord[]): Promise<void> {
  await writeJson(path.join(runDir, 'history.json'), history);
  const cols: (keyof EpochRecord)[] = ['epoch', 'loss', 'acc', 'val_loss', 'val_acc', 'seconds'];
  if (history.some((h) => h.rss_mb !== undefined)) cols.push('rss_mb', 'tensors');
  const cell = (h: EpochRecord, c: keyof EpochRecord) => {
    const v = h[c];
    return v === undefined ? '' : c === 'epoch' || c === 'tensors' ? String(v) : String(Number(v.toPrecision(6)));
  };
  const csv = [cols.join(','), ...history.map((h) => cols.map((c) => cell(h, c)).join(','))].join('\n') + '\n';
  await writeFileAtomic(path.join(runDir, 'history.csv'), csv);
}

export async function readHistory(runDir: string): Promise<EpochRecord[]> {
  return readJson<EpochRecord[]>(path.join(runDir, 'history.json'), 'run directory');
}

/**
 * Serialises a model to tfjs layers format (model.json + weights.bin) in memory. `portable`: fer's own
 * layer classes are written as the tfjs class they compute (InputConv2D as Conv2D), so that plain
 * TensorFlow.js (a browser, Python's tensorflowjs) loads the file; checkpoints keep fer's classes.
 */
export async function modelArtifacts(model: tf.LayersModel, opts: { portable?: boolean } = {}): Promise<{ json: string; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      captured = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = captured!;
  const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]));
  const json = JSON.stringify({
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: opts.portable ? portableTopology(a.modelTopology) : a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  });
  return { json, weights: data };
}

/** fer's layer classes that are a tfjs class computed another way, by their tfjs name. */
const PORTABLE_CLASS: Record<string, string> = { [InputConv2D.className]: 'Conv2D' };

function portableTopology(topology: unknown): unknown {
  if (Array.isArray(topology)) return topology.map(portableTopology);
  if (!topology || typeof topology !== 'object') return topology;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(topology)) out[k] = k === 'class_name' && typeof v === 'string' && PORTABLE_CLASS[v] ? PORTABLE_CLASS[v] : portableTopology(v);
  return out;
}

/**
 * Replaces directory `dir` by one holding `files`, atomically enough for a crash at any point to leave
 * either the old or the new directory (the old one under `dir.old` for a moment, which loaders accept).
 */
export async function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(tmp, name), data);
  if (existsSync(dir)) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** Saves a model in tfjs layers format to `dir` (model.json + weights.bin), atomically. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const { json, weights } = await modelArtifacts(model, { portable: true });
  await writeDirAtomic(dir, { 'model.json': json, 'weights.bin': weights });
}

/** The directory to read: `dir`, or `dir.old` when a save was cut off between its two renames. */
function settledDir(dir: string): string {
  if (!existsSync(dir) && existsSync(`${dir}.old`)) return `${dir}.old`;
  return dir;
}

/** Loads a tfjs layers model saved by `saveModel` (or any model.json with its weight files). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const d = settledDir(dir);
  const jsonPath = path.join(d, 'model.json');
  if (!existsSync(jsonPath)) {
    throw new FerError(`${d} has no model.json`, { hint: 'train one first with `pnpm fer train`, or point --run at a run directory that finished an epoch' });
  }
  const json = await readJson<{ modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }>(jsonPath, 'model');
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new FerError(`${jsonPath} is not a tfjs layers model (no modelTopology or weightsManifest)`, { hint: 'save models with fer, or tfjs model.save()' });
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers: Uint8Array[] = [];
  for (const g of json.weightsManifest) for (const p of g.paths) buffers.push(new Uint8Array(await readFile(path.join(d, p)).catch(() => {
    throw new FerError(`${path.join(d, p)} is missing`, { hint: 'the model directory is incomplete: restore it from a checkpoint or train again' });
  })));
  const total = buffers.reduce((s, b) => s + b.length, 0);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (total !== expected) {
    throw new FerError(`${d}: the weight files hold ${total} bytes, model.json describes ${expected}`, { hint: 'the weights are truncated or belong to another model: restore from a checkpoint or train again' });
  }
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.length;
  }
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: specs, weightData: weightData.buffer }));
  } catch (e) {
    throw new FerError(`${jsonPath} could not be loaded as a model (${(e as Error).message})`, { hint: 'it may come from another tool or version: train again with fer' });
  }
}

/** Checks that a model takes 48x48 grey faces and gives 7 classes. */
export function assertFaceModel(model: tf.LayersModel, where: string): void {
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape[1] !== IMAGE_SIZE || inShape[2] !== IMAGE_SIZE || inShape[3] !== 1) {
    throw new FerError(`${where}: the model takes input of shape [${inShape.map((d) => d ?? 'N').join(', ')}], not 48x48x1 grey faces`, { hint: 'use a model trained by `fer train`' });
  }
  const outShape = model.outputs[0].shape;
  if (outShape[outShape.length - 1] !== 7) throw new FerError(`${where}: the model has ${outShape[outShape.length - 1]} outputs, not 7 classes`);
}

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

/** Saves weights, Adam's moments and the training state as one directory, atomically. */
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
    'state.json': JSON.stringify({ ...state, optimizer: { specs: encoded.specs } }, null, 2),
  });
}

/** Loads a checkpoint written by saveCheckpoint; restores Adam's moments into `optimizer`. */
export async function loadCheckpoint(dir: string, optimizer: tf.Optimizer): Promise<{ model: tf.LayersModel; state: CheckpointState }> {
  const d = settledDir(dir);
  if (!existsSync(path.join(d, 'state.json'))) {
    throw new FerError(`${dir} holds no checkpoint`, { hint: 'a run can be resumed only after it has saved one (at the end of an epoch, or on Ctrl-C)' });
  }
  const model = await loadModel(d);
  const state = await readJson<CheckpointState & { optimizer: { specs: tf.io.WeightsManifestEntry[] } }>(path.join(d, 'state.json'), 'checkpoint');
  const buf = await readFile(path.join(d, 'optimizer.bin'));
  const expected = state.optimizer.specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expected) throw new FerError(`${d}/optimizer.bin holds ${buf.length} bytes, state.json describes ${expected}`, { hint: 'the checkpoint is corrupt' });
  const named = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), state.optimizer.specs);
  // Adam matches moments to variables by position, so names do not matter; order is trainableWeights'.
  await optimizer.setWeights(state.optimizer.specs.map((s) => ({ name: s.name, tensor: named[s.name] })));
  tf.dispose(Object.values(named)); // setWeights copies them into variables
  return { model, state };
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
