import type * as tf from '@tensorflow/tfjs';
import { FerError } from '../errors.js';
import { loadRunModel } from '../rundir/model-files.js';
import { readRunJson, type RunJson } from '../rundir/run-json.js';

/** A model of an ensemble, with the name messages call it by (a run directory, "model 2"). */
export interface EnsembleMember {
  name: string;
  model: tf.LayersModel;
}

const shapeText = (shape: readonly (number | null)[]) => `[${shape.map((d) => d ?? 'N').join(', ')}]`;

/**
 * Checks that models can be averaged: every one takes input of the same shape and gives the same number
 * of classes as the first. Throws a FerError naming the first model, the one that differs, and how.
 */
export function checkEnsemble(models: readonly EnsembleMember[]): void {
  if (models.length === 0) throw new FerError('no models to average', { hint: 'give at least one --run DIR' });
  const [first, ...rest] = models;
  const inputOf = (m: tf.LayersModel) => shapeText(m.inputs[0].shape.slice(1));
  const classesOf = (m: tf.LayersModel) => {
    const s = m.outputs[0].shape;
    return s[s.length - 1];
  };
  const hint = 'average only models of the same task: runs trained by `fer train` on 48x48 grey faces with 7 classes';
  for (const other of rest) {
    if (inputOf(other.model) !== inputOf(first.model))
      throw new FerError(
        `cannot average ${first.name} and ${other.name}: they take input of different shapes (${first.name}: ${inputOf(first.model)}, ${other.name}: ${inputOf(other.model)})`,
        { hint },
      );
    if (classesOf(other.model) !== classesOf(first.model))
      throw new FerError(
        `cannot average ${first.name} and ${other.name}: they give different numbers of classes (${first.name}: ${classesOf(first.model)}, ${other.name}: ${classesOf(other.model)})`,
        { hint },
      );
  }
}

/** The pad-and-crop padding a run was trained with (run.json config.augment.crop); 0 without run.json or crops. */
export function runCropPad(run: Pick<RunJson, 'config'> | undefined): number {
  const crop = run?.config.augment?.crop;
  return typeof crop === 'number' && Number.isInteger(crop) && crop > 0 ? crop : 0;
}

/** A run of an ensemble: its model, its run.json (undefined for a model directory without one) and its crop padding. */
export interface RunMember extends EnsembleMember {
  dir: string;
  run: RunJson | undefined;
  cropPad: number;
}

/**
 * Loads the models of run directories to average (loadRunModel: each must take 48x48 grey faces and give 7
 * classes), with each run's run.json when it has one and the crop padding it was trained with, and checks
 * that they can be averaged (checkEnsemble). `name` is what messages call a run (default: its directory).
 */
export async function loadRunEnsemble(runs: readonly { dir: string; name?: string }[]): Promise<RunMember[]> {
  const members: RunMember[] = [];
  for (const { dir, name } of runs) {
    const model = await loadRunModel(dir);
    const run = await readRunJson(dir, { optional: true });
    members.push({ name: name ?? dir, dir, model, run, cropPad: runCropPad(run) });
  }
  checkEnsemble(members);
  return members;
}

/**
 * The models and crop paddings to hand predictFaces, predictPhotos or evaluateToDir for runs of loadRunEnsemble:
 * one run's model as it is (as before ensembles), several as a list; cropPad undefined when no run used crops,
 * else the one run's, else each run's own.
 */
export function ensembleInputs(runs: readonly RunMember[]): { models: tf.LayersModel | tf.LayersModel[]; cropPad: number | number[] | undefined } {
  const models = runs.length === 1 ? runs[0].model : runs.map((r) => r.model);
  const cropPad = runs.every((r) => r.cropPad === 0) ? undefined : runs.length === 1 ? runs[0].cropPad : runs.map((r) => r.cropPad);
  return { models, cropPad };
}
