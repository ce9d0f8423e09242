import path from 'node:path';
import { existsSync } from 'node:fs';
import type { BackendChoice, BackendInfo } from '../backend/select.js';
import type { AugmentOptions } from '../data/augment.js';
import type { OptimizerName } from '../training/optimizers.js';
import { LR_SCHEDULES, type LrSchedule } from '../training/schedules.js';
import type { FaceDataset, Split } from '../data/dataset.js';
import { FerError } from '../errors.js';
import { isDirectory, readJson, writeJson } from '../files.js';
import type { EpochRecord } from './history.js';
import { runPaths } from './paths.js';

/**
 * run.json: what a run was asked to do (`config`, enough to rebuild its data split and to resume it),
 * what it found (data, backend, versions) and how it went (timings, status, result). `fer train` writes
 * it; everything else reads it through readRunJson, which checks it.
 *
 * Versions: 1 is the first versioned format. Files that fer wrote before versions existed have the same
 * fields and no `version`; they are read as version 1 when they pass its checks.
 */
export const RUN_JSON_VERSION = 1;

/** What `fer train` was asked to do, with every default filled in. */
export interface RunConfig {
  /** The data file or folder (absolute), or 'synthetic'. */
  data: string;
  /** The model's name (models/index.ts MODELS). */
  model: string;
  epochs: number;
  batch: number;
  /** The base (peak) learning rate. */
  lr: number;
  lrSchedule: LrSchedule;
  /** warmup-cosine: epochs of linear warm-up. */
  warmupEpochs?: number;
  /** The recipe the defaults came from (training/recipes.ts); flags given override it. */
  recipe?: string;
  /** adam (absent: adam, the report's) or sgd. */
  optimizer?: OptimizerName;
  /** sgd: momentum and whether it is Nesterov's. */
  momentum?: number;
  nesterov?: boolean;
  /** L2 weight decay on conv and dense kernels (not biases, not BatchNorm). */
  weightDecay?: number;
  labelSmoothing?: number;
  /** Dropout rate of models that have dropout. */
  dropout?: number;
  seed: number;
  /** rows: the first trainRows training rows train, the rest validate; usage: Kaggle's Usage column. */
  split: 'rows' | 'usage';
  trainRows: number;
  /** The last testRows training rows are held out: neither trained nor validated on (`fer evaluate --test-part` scores them). */
  testRows?: number;
  /** Only the first `limit` rows were loaded. */
  limit?: number;
  skipBadRows: boolean;
  backend: BackendChoice;
  /** The synthetic faces, when data is 'synthetic'. */
  synthetic?: { count: number; trainRows: number; seed: number };
  /** Training-time augmentation (absent: none, the report's recipe). */
  augment?: AugmentOptions;
  /**
   * Distillation: the runs (directories, as given) whose averaged probabilities on each training face are part
   * of the target (teacher.bin in the run directory keeps them, so that --resume needs none of these runs).
   */
  teachers?: string[];
  /** The teachers' share of the target: (1 - w) x the labels (smoothed) + w x the teachers' probabilities. */
  teacherWeight?: number;
}

export type RunStatus = 'running' | 'finished' | 'interrupted' | 'failed';

export interface RunJson {
  version: number;
  name: string;
  command: string;
  config: RunConfig;
  data: { source: string; format: string; rows: number; skipped: number; split: string; train: number; validation: number };
  backend: BackendInfo & { threads: number };
  versions: { node: string; tfjs: string; platform: string };
  timings: { startedAt: string; dataLoadSeconds: number; finishedAt?: string; failedAt?: string; seconds?: number; secondsPerEpoch?: number[] };
  status: RunStatus;
  result?: { epochs: number; bestEpoch: number; bestValAcc: number; final?: EpochRecord };
  error?: string;
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt: Check = (v) => Number.isInteger(v);
const isBool: Check = (v) => typeof v === 'boolean';
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each checked field: its path, whether it may be absent, its check and what it should be. */
const FIELDS: [string, boolean, Check, string][] = [
  ['name', false, isString, 'a string'],
  ['command', false, isString, 'a string'],
  ['config.data', false, isString, "a path or 'synthetic'"],
  ['config.model', false, isString, 'a model name'],
  ['config.epochs', false, isInt, 'a whole number'],
  ['config.batch', false, isInt, 'a whole number'],
  ['config.lr', false, isNumber, 'a number'],
  ['config.lrSchedule', false, oneOf(...LR_SCHEDULES), LR_SCHEDULES.join(', ')],
  ['config.warmupEpochs', true, isNumber, 'a number'],
  ['config.recipe', true, isString, 'a recipe name'],
  ['config.optimizer', true, oneOf('adam', 'sgd'), "'adam' or 'sgd'"],
  ['config.momentum', true, isNumber, 'a number'],
  ['config.nesterov', true, isBool, 'true or false'],
  ['config.weightDecay', true, isNumber, 'a number'],
  ['config.labelSmoothing', true, isNumber, 'a number'],
  ['config.dropout', true, isNumber, 'a number'],
  ['config.testRows', true, isInt, 'a whole number'],
  ['config.teachers', true, (v) => Array.isArray(v) && v.every(isString), 'a list of run directories'],
  ['config.teacherWeight', true, isNumber, 'a number'],
  ['config.seed', false, isInt, 'a whole number'],
  ['config.split', false, oneOf('rows', 'usage'), "'rows' or 'usage'"],
  ['config.trainRows', false, isInt, 'a whole number'],
  ['config.limit', true, isInt, 'a whole number'],
  ['config.skipBadRows', false, isBool, 'true or false'],
  ['config.backend', false, oneOf('auto', 'node', 'wasm', 'cpu'), 'auto, node, wasm or cpu'],
  ['config.synthetic.count', true, isInt, 'a whole number'],
  ['config.synthetic.trainRows', true, isInt, 'a whole number'],
  ['config.synthetic.seed', true, isInt, 'a whole number'],
  ['data.source', false, isString, 'a string'],
  ['data.rows', false, isInt, 'a whole number'],
  ['backend.name', false, isString, 'a backend name'],
  ['timings.startedAt', false, isString, 'a date'],
  ['status', false, oneOf('running', 'finished', 'interrupted', 'failed'), 'running, finished, interrupted or failed'],
];

function at(value: unknown, dotted: string): unknown {
  let v = value;
  for (const k of dotted.split('.')) v = isObject(v) ? v[k] : undefined;
  return v;
}

/** Checks a parsed run.json; `file` names it in the errors. */
export function parseRunJson(value: unknown, file: string): RunJson {
  const hint = 'run.json is written by `fer train`: train the run again, or restore the file from a copy';
  if (!isObject(value)) throw new FerError(`${file} is not a run.json (not a JSON object)`, { hint });
  const version = value.version ?? RUN_JSON_VERSION;
  if (!isInt(version) || (version as number) < 1) throw new FerError(`${file}: "version" is ${JSON.stringify(value.version)}, not a run.json version`, { hint });
  if ((version as number) > RUN_JSON_VERSION) {
    throw new FerError(`${file} was written by a newer fer (run.json version ${version}; this fer reads version ${RUN_JSON_VERSION})`, {
      hint: 'update fer (git pull && pnpm install) to read this run',
    });
  }
  const problems: string[] = [];
  for (const [field, optional, check, what] of FIELDS) {
    const v = at(value, field);
    if (v === undefined && (optional || (field.startsWith('config.synthetic.') && at(value, 'config.synthetic') === undefined))) continue;
    if (v === undefined) problems.push(`"${field}" is missing`);
    else if (!check(v)) problems.push(`"${field}" is ${JSON.stringify(v)}, not ${what}`);
  }
  if (at(value, 'config.data') === 'synthetic' && !isObject(at(value, 'config.synthetic'))) problems.push('"config.synthetic" is missing (the data is synthetic)');
  if (problems.length) {
    const older = value.version === undefined ? ' (it may come from an older fer)' : '';
    throw new FerError(`${file} is not a valid run.json${older}: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`, { hint });
  }
  return { ...(value as unknown as RunJson), version: version as number };
}

/** The run's run.json, checked. With `optional`, undefined when the directory has none (a model copied without it). */
export async function readRunJson(runDir: string, options?: { optional?: false }): Promise<RunJson>;
export async function readRunJson(runDir: string, options: { optional: true }): Promise<RunJson | undefined>;
export async function readRunJson(runDir: string, options: { optional?: boolean } = {}): Promise<RunJson | undefined> {
  if (!(await isDirectory(runDir))) throw new FerError(`${runDir} is not a directory`, { hint: 'pass --run a run directory written by `fer train` (runs/<name>)' });
  const file = runPaths(runDir).runJson;
  if (!existsSync(file)) {
    if (options.optional) return undefined;
    throw new FerError(`${runDir} is not a run directory (no run.json)`, { hint: 'pass the --out of an earlier `fer train`' });
  }
  return parseRunJson(await readJson<unknown>(file, 'run.json'), file);
}

export async function writeRunJson(runDir: string, run: RunJson): Promise<void> {
  await writeJson(runPaths(runDir).runJson, run);
}

/** A new run's run.json (status 'running'), from what `fer train` chose and found. */
export function createRunJson(init: {
  runDir: string;
  command: string;
  config: RunConfig;
  /** The loaded data and its split (runSplit). */
  data: FaceDataset;
  split: Split;
  backend: BackendInfo;
  threads: number;
  /** tf.version.tfjs (passed in: this module stays free of tfjs). */
  tfjsVersion: string;
  dataLoadSeconds: number;
  startedAt?: Date;
}): RunJson {
  return {
    version: RUN_JSON_VERSION,
    name: path.basename(init.runDir),
    command: init.command,
    config: init.config,
    data: {
      source: init.data.source,
      format: init.data.format,
      rows: init.data.size,
      skipped: init.data.skipped,
      split: init.split.description,
      train: init.split.train.size,
      validation: init.split.validation.size,
    },
    backend: { ...init.backend, threads: init.threads },
    versions: { node: process.version, tfjs: init.tfjsVersion, platform: `${process.platform}-${process.arch}` },
    timings: { startedAt: (init.startedAt ?? new Date()).toISOString(), dataLoadSeconds: init.dataLoadSeconds },
    status: 'running',
  };
}
