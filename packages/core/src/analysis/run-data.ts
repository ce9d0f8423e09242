import type * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { FerError } from '../errors.js';
import { readJson, isDirectory, loadModel, assertFaceModel } from '../run.js';
import { syntheticFaces } from '../data/synthetic.js';
import { loadDataset } from '../data/load.js';
import { splitByRows, splitByUsage, type FaceDataset } from '../data/dataset.js';

/** The part of run.json's `config` (written by `fer train`) that says where the data came from. */
export interface RunDataConfig {
  data: string;
  model?: string;
  split?: 'rows' | 'usage';
  trainRows?: number;
  limit?: number;
  skipBadRows?: boolean;
  seed?: number;
  synthetic?: { count: number; trainRows?: number; seed: number };
}

export interface RunInfo {
  dir: string;
  name: string;
  config?: RunDataConfig;
  raw: Record<string, unknown>;
}

export async function readRunInfo(runDir: string): Promise<RunInfo> {
  if (!(await isDirectory(runDir))) throw new FerError(`${runDir} is not a directory`, { hint: 'pass --run a run directory written by `fer train` (runs/<name>)' });
  const file = path.join(runDir, 'run.json');
  const raw = existsSync(file) ? await readJson<Record<string, unknown>>(file, 'run directory') : {};
  return { dir: runDir, name: path.basename(runDir), config: raw.config as RunDataConfig | undefined, raw };
}

/** The run's trained model (runDir/model), checked to take 48x48 grey faces and give 7 classes. */
export async function loadRunModel(runDir: string): Promise<tf.LayersModel> {
  if (!(await isDirectory(runDir))) throw new FerError(`${runDir} is not a directory`, { hint: 'pass --run a run directory written by `fer train` (runs/<name>)' });
  const dir = path.join(runDir, 'model');
  if (!existsSync(dir) && !existsSync(`${dir}.old`)) {
    throw new FerError(`${runDir} has no model/ directory`, { hint: 'the run has not finished an epoch yet: wait for it, or train one with `pnpm fer train --out DIR`' });
  }
  const model = await loadModel(dir);
  assertFaceModel(model, dir);
  return model;
}

/**
 * The faces the run validated on, rebuilt from run.json: synthetic faces are regenerated from their
 * seed, files are loaded again and split the same way. Masks come along for synthetic faces.
 */
export async function runValidationData(run: RunInfo): Promise<FaceDataset> {
  const c = run.config;
  if (!c?.data) {
    throw new FerError(`${path.join(run.dir, 'run.json')} does not say what data the run trained on`, { hint: 'pass --data FILE to evaluate on' });
  }
  if (c.data === 'synthetic') {
    const s = c.synthetic;
    if (!s) throw new FerError(`${path.join(run.dir, 'run.json')} has data "synthetic" but no config.synthetic {count, seed}`, { hint: 'pass --data FILE' });
    const faces = syntheticFaces({ count: s.count, seed: s.seed });
    return splitByRows(faces, c.trainRows ?? s.trainRows ?? Math.floor(s.count * 0.8)).validation;
  }
  if (!existsSync(c.data)) {
    throw new FerError(`the run trained on ${c.data}, which is no longer there`, { hint: 'pass --data FILE to evaluate on another copy' });
  }
  const data = await loadDataset(c.data, { limit: c.limit, skipBadRows: c.skipBadRows });
  if (c.split === 'usage') return splitByUsage(data).validation;
  return splitByRows(data, c.trainRows ?? Math.floor(data.size * 0.8)).validation;
}
