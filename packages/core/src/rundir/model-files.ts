import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_SIZE, NUM_CLASSES } from '../classes.js';
import { FerError } from '../errors.js';
import { isDirectory, readJson, settledDir, writeDirAtomic } from '../files.js';
import { InputConv2D } from '../models/index.js';
import { runPaths } from './paths.js';

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

/** Saves a model in tfjs layers format to `dir` (model.json + weights.bin), atomically. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const { json, weights } = await modelArtifacts(model, { portable: true });
  await writeDirAtomic(dir, { 'model.json': json, 'weights.bin': weights });
}

/** Loads a tfjs layers model saved by `saveModel` (or any model.json with its weight files). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const d = settledDir(dir);
  const jsonPath = path.join(d, 'model.json');
  if (!existsSync(jsonPath)) {
    throw new FerError(`${d} has no model.json`, { hint: 'train one first with `pnpm fer train`, or point --run at a run directory that finished an epoch' });
  }
  const artifacts = await readModelFiles(jsonPath, {
    notModel: 'save models with fer, or tfjs model.save()',
    missing: 'the model directory is incomplete: restore it from a checkpoint or train again',
    truncated: 'the weights are truncated or belong to another model: restore from a checkpoint or train again',
  });
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new FerError(`${jsonPath} could not be loaded as a model (${(e as Error).message})`, { hint: 'it may come from another tool or version: train again with fer' });
  }
}

/**
 * A tfjs model.json (layers or graph) and the weight files its manifest names, checked and read into memory
 * for `tf.io.fromMemory`. The hints say how to fix a file that is no tfjs model, a missing weight file and
 * weights of the wrong size.
 */
export async function readModelFiles(jsonPath: string, hints: { notModel: string; missing: string; truncated: string }): Promise<tf.io.ModelArtifacts> {
  const json = await readJson<{ modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }>(jsonPath, 'model');
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new FerError(`${jsonPath} is not a tfjs model (no modelTopology or weightsManifest)`, { hint: hints.notModel });
  }
  const d = path.dirname(jsonPath);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers: Uint8Array[] = [];
  for (const g of json.weightsManifest)
    for (const p of g.paths)
      buffers.push(
        new Uint8Array(
          await readFile(path.join(d, p)).catch(() => {
            throw new FerError(`${path.join(d, p)} is missing`, { hint: hints.missing });
          }),
        ),
      );
  const total = buffers.reduce((s, b) => s + b.length, 0);
  // float32 and int32 weights take 4 bytes each (quantized ones less: not checked)
  const expected = specs.every((w) => !w.quantization) ? specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0) : total;
  if (total !== expected) {
    throw new FerError(`${d}: the weight files hold ${total} bytes, ${path.basename(jsonPath)} describes ${expected}`, { hint: hints.truncated });
  }
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.length;
  }
  return { modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs: specs, weightData: weightData.buffer };
}

/** Checks that a model takes 48x48 grey faces and gives 7 classes. */
export function assertFaceModel(model: tf.LayersModel, where: string): void {
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 4 || inShape[1] !== IMAGE_SIZE || inShape[2] !== IMAGE_SIZE || inShape[3] !== 1) {
    throw new FerError(`${where}: the model takes input of shape [${inShape.map((d) => d ?? 'N').join(', ')}], not 48x48x1 grey faces`, {
      hint: 'use a model trained by `fer train`',
    });
  }
  const outShape = model.outputs[0].shape;
  if (outShape[outShape.length - 1] !== NUM_CLASSES) throw new FerError(`${where}: the model has ${outShape[outShape.length - 1]} outputs, not ${NUM_CLASSES} classes`);
}

/** The run's trained model (runDir/model), checked to take 48x48 grey faces and give 7 classes. */
export async function loadRunModel(runDir: string): Promise<tf.LayersModel> {
  if (!(await isDirectory(runDir))) throw new FerError(`${runDir} is not a directory`, { hint: 'pass --run a run directory written by `fer train` (runs/<name>)' });
  const dir = runPaths(runDir).model;
  if (!existsSync(dir) && !existsSync(`${dir}.old`)) {
    throw new FerError(`${runDir} has no model/ directory`, { hint: 'the run has not finished an epoch yet: wait for it, or train one with `pnpm fer train --out DIR`' });
  }
  const model = await loadModel(dir);
  assertFaceModel(model, dir);
  return model;
}
