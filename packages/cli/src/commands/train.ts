import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import {
  BACKEND_CHOICES,
  createDataParallelStepper,
  createRunJson,
  defaultRunConfig,
  FerError,
  MODEL_NAMES,
  loadRunData,
  readRunJson,
  REPORT_DEFAULTS,
  runPaths,
  runSplit,
  selectBackend,
  SYNTHETIC_DEFAULTS,
  train as trainModel,
  writeRunJson,
  describeAugmentation,
  describeOptimizer,
  getRecipe,
  LR_SCHEDULES,
  OPTIMIZER_NAMES,
  RECIPE_NAMES,
  RECIPES,
  validateAugmentOptions,
  loadTeacherProbabilities,
  saveTeacherProbabilities,
  teacherProbabilities,
  type AugmentOptions,
  type EpochRecord,
  type LossOptions,
  type ModelName,
  type OptimizerSpec,
  type RunConfig,
} from '@fer/core';
import type { Command } from '../command.js';
import { choiceFlag, intFlag, numberFlag, parseFlags, userPath } from '../args.js';
import { ProgressBar, formatDuration } from '../progress.js';

const USAGE = `usage: fer train [--data FILE|DIR] [--recipe report|strong] [flags]

Trains a model and writes a run directory (run.json, history.json/.csv, model/, checkpoints/, plots/).
Without --data it trains the seed CNN on built-in synthetic faces (${SYNTHETIC_DEFAULTS.train} train, ${SYNTHETIC_DEFAULTS.validation} validation) in a few minutes.

  --data PATH         Kaggle fer2013.csv, NTU train.csv, or an image folder <emotion>/*.jpg; .gz is fine
  --recipe NAME       ${RECIPE_NAMES.map((r) => `${r}: ${RECIPES[r].description}`).join('\n                      ')}
                      (default report with --data); any flag below overrides the recipe
  --model NAME        ${MODEL_NAMES.join(', ')} (fer summary --model NAME shows one)
  --epochs N          epochs (report: ${RECIPES.report.epochs}, strong: ${RECIPES.strong.epochs}; ${SYNTHETIC_DEFAULTS.epochs} on synthetic faces)
  --batch N           batch size (report ${RECIPES.report.batch}; ${SYNTHETIC_DEFAULTS.batch} on synthetic faces)
  --optimizer NAME    adam (the report's) or sgd
  --lr X              base learning rate (report ${RECIPES.report.lr}, strong ${RECIPES.strong.lr}; ${SYNTHETIC_DEFAULTS.lr} on synthetic faces)
  --lr-schedule S     ${LR_SCHEDULES.join(', ')}
  --warmup-epochs N   warm-up epochs of warmup-cosine (default 1)
  --momentum X        sgd momentum (default 0.9); --no-nesterov for plain momentum
  --weight-decay X    L2 on conv and dense kernels, not biases or BatchNorm (strong: ${RECIPES.strong.weightDecay})
  --label-smoothing X cross-entropy against (1-X) one-hot + X/7 (strong: ${RECIPES.strong.labelSmoothing})
  --dropout X         dropout rate of models that have dropout (vgg)
  --teacher RUN       distillation: learn from finished runs' probabilities too (once per run; their mean is
                      taken on each training face at the start and kept in the run as teacher.bin)
  --teacher-weight W  the teachers' share of the target: (1-W) x labels + W x teachers (default 0.5)
  augmentation, each batch, deterministic in (seed, epoch, row):
  --crop N            pad by N pixels and crop 48x48 at random    --flip / --no-flip   mirror half the faces
  --rotate DEG        random rotation up to DEG                   --scale X            random scale 1±X
  --erase P           random erasing with probability P           --brightness X, --contrast X   jitter ±X
  --no-augment        none of them (the recipe's augmentation off)
  --split rows|usage  rows (default): the first --train-rows rows train, the rest validate (the report's split);
                      usage: Kaggle's Usage column, Training trains and PublicTest validates
  --train-rows N      default ${REPORT_DEFAULTS.trainRows} (the report's)
  --test-rows N       hold out the last N training rows as a test part (fer evaluate --test-part scores it)
  --limit N           load only the first N rows (quick runs); --train-rows then defaults to 80% of them
  --seed N            shuffling, augmentation and initialisation (default 0)
  --skip-bad-rows     skip malformed rows instead of stopping, and say how many
  --backend NAME      auto (default: tfjs-node, else wasm, else cpu), node, wasm or cpu
  --workers N         data-parallel worker threads (default: 2 on wasm, where one backend uses one core; 1: none)
  --out DIR           the run directory (default runs/<date-time>)
  --resume            continue the run in --out from its last checkpoint; only --epochs, --backend and
                      --workers may change (any other flag that differs from its run.json is an error)

Ctrl-C stops after the current batch and saves a checkpoint that --resume continues from.`;

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

type Flags = Record<string, string | string[] | boolean | undefined>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The teachers' share of the target when --teacher is given without --teacher-weight (not tuned). */
const DEFAULT_TEACHER_WEIGHT = 0.5;

/** The settings the flags given set (validated), and nothing else: defaults come from the recipe. */
function configFromFlags(v: Flags): Partial<RunConfig> {
  const str = (k: string) => v[k] as string | undefined;
  const c: Partial<RunConfig> = {};
  const set = <K extends keyof RunConfig>(key: K, value: RunConfig[K] | undefined) => {
    if (value !== undefined) c[key] = value;
  };
  const int = (k: string, min: number, max?: number) => (str(k) === undefined ? undefined : intFlag(k, str(k), 0, min, max));
  const num = (k: string, minExclusive: number, max: number) => (str(k) === undefined ? undefined : numberFlag(k, str(k), 0, minExclusive, max));
  set('model', str('model') === undefined ? undefined : choiceFlag('model', str('model'), MODEL_NAMES, 'seed'));
  set('epochs', int('epochs', 1, 10000));
  set('batch', int('batch', 1, 4096));
  set('optimizer', str('optimizer') === undefined ? undefined : choiceFlag('optimizer', str('optimizer'), OPTIMIZER_NAMES, 'adam'));
  set('lr', num('lr', 0, 10));
  set('lrSchedule', str('lr-schedule') === undefined ? undefined : choiceFlag('lr-schedule', str('lr-schedule'), LR_SCHEDULES, 'constant'));
  set('warmupEpochs', num('warmup-epochs', -1, 1000));
  set('momentum', num('momentum', -1, 0.9999));
  set('nesterov', v['no-nesterov'] ? false : v.nesterov ? true : undefined);
  set('weightDecay', num('weight-decay', -1, 1));
  set('labelSmoothing', num('label-smoothing', -1, 0.9));
  set('dropout', num('dropout', -1, 0.9));
  const teachers = v.teacher as string[] | undefined;
  if (teachers?.length) {
    set(
      'teachers',
      teachers.map((t) => userPath(t)),
    );
    set('teacherWeight', num('teacher-weight', 0, 1) ?? DEFAULT_TEACHER_WEIGHT);
  } else if (str('teacher-weight') !== undefined) {
    throw new FerError('--teacher-weight is the share of the teachers in the target: it needs --teacher RUN', {
      hint: 'add --teacher runs/A (once per teacher run), or drop --teacher-weight',
    });
  }
  set('seed', int('seed', 0, 2 ** 31 - 1));
  set('split', str('split') === undefined ? undefined : choiceFlag('split', str('split'), ['rows', 'usage'] as const, 'rows'));
  set('trainRows', int('train-rows', 1));
  set('testRows', int('test-rows', 0));
  set('limit', int('limit', 2));
  set('skipBadRows', v['skip-bad-rows'] ? true : undefined);
  set('backend', str('backend') === undefined ? undefined : choiceFlag('backend', str('backend'), BACKEND_CHOICES, 'auto'));
  const augment: AugmentOptions = {};
  const aug = <K extends keyof AugmentOptions>(key: K, value: AugmentOptions[K] | undefined) => {
    if (value !== undefined) augment[key] = value;
  };
  aug('crop', int('crop', 0, 16));
  aug('flip', v['no-flip'] ? false : v.flip ? true : undefined);
  aug('rotate', num('rotate', -1, 45));
  aug('scale', num('scale', -1, 0.5));
  aug('erase', num('erase', -1, 1));
  aug('brightness', num('brightness', -1, 1));
  aug('contrast', num('contrast', -1, 1));
  if (Object.keys(augment).length || v['no-augment']) c.augment = augment;
  return c;
}

/** The settings `asked` for that differ from a run's config, as flags: "--lr 0.01 (the run has 0.0001)". */
function changedSettings(base: RunConfig, asked: Partial<RunConfig>): string[] {
  const mayChange = new Set<keyof RunConfig>(['epochs', 'backend']);
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const out: string[] = [];
  for (const [key, value] of Object.entries(asked) as [keyof RunConfig, unknown][]) {
    if (mayChange.has(key) || value === undefined) continue;
    const had = base[key];
    if (key === 'augment') {
      const a = value as AugmentOptions;
      const b = (had ?? {}) as AugmentOptions;
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof AugmentOptions>) {
        if ((a[k] ?? undefined) !== (b[k] ?? undefined) && !(a[k] === undefined && !(k in a))) out.push(`${flag(k)} ${a[k] ?? 'off'} (the run has ${b[k] ?? 'off'})`);
      }
      continue;
    }
    if (JSON.stringify(value) !== JSON.stringify(had)) out.push(`${flag(key)} ${String(value)} (the run has ${had === undefined ? 'none' : String(had)})`);
  }
  return out;
}

export const train: Command = {
  name: 'train',
  summary: "train the report's CNN (on FER2013 with --data, else on built-in synthetic faces)",
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      {
        data: { type: 'string' },
        recipe: { type: 'string' },
        model: { type: 'string' },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        optimizer: { type: 'string' },
        lr: { type: 'string' },
        'lr-schedule': { type: 'string' },
        'warmup-epochs': { type: 'string' },
        momentum: { type: 'string' },
        nesterov: { type: 'boolean' },
        'no-nesterov': { type: 'boolean' },
        'weight-decay': { type: 'string' },
        'label-smoothing': { type: 'string' },
        dropout: { type: 'string' },
        teacher: { type: 'string', multiple: true },
        'teacher-weight': { type: 'string' },
        crop: { type: 'string' },
        flip: { type: 'boolean' },
        'no-flip': { type: 'boolean' },
        rotate: { type: 'string' },
        scale: { type: 'string' },
        erase: { type: 'string' },
        brightness: { type: 'string' },
        contrast: { type: 'string' },
        'no-augment': { type: 'boolean' },
        split: { type: 'string' },
        'train-rows': { type: 'string' },
        'test-rows': { type: 'string' },
        limit: { type: 'string' },
        seed: { type: 'string' },
        'skip-bad-rows': { type: 'boolean' },
        backend: { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'boolean' },
        workers: { type: 'string' },
      },
      'train',
    );
    const started = Date.now();
    const outDir = userPath(v.out ?? path.join('runs', timestamp()));
    const given = configFromFlags(v);
    let cfg: RunConfig;
    if (v.resume) {
      if (!v.out) throw new FerError('--resume needs --out DIR: the run to continue', { hint: 'e.g. fer train --resume --out runs/2026-11-27-101500' });
      const base = (await readRunJson(outDir)).config;
      const { description: _, ...recipe } = v.recipe ? getRecipe(v.recipe) : { description: '' };
      const asked: Partial<RunConfig> = { ...(v.recipe ? { ...recipe, recipe: v.recipe } : {}), ...given };
      const changed = changedSettings(base, asked);
      if (changed.length) {
        throw new FerError(`--resume continues ${outDir} as it was trained, and these differ from its run.json: ${changed.join('; ')}`, {
          hint: 'drop them to continue the run (only --epochs, --backend and --workers may change), or start a new run with another --out',
        });
      }
      cfg = { ...base, epochs: given.epochs ?? base.epochs, backend: given.backend ?? base.backend, data: v.data !== undefined ? userPath(v.data) : base.data };
    } else {
      if (existsSync(runPaths(outDir).runJson)) throw new FerError(`${outDir} already holds a run`, { hint: 'pass --resume to continue it, or another --out to start a new one' });
      const dataPath = v.data !== undefined ? userPath(v.data) : 'synthetic';
      cfg = defaultRunConfig(dataPath, { ...(v.recipe ? { recipe: v.recipe } : {}), ...given, data: dataPath });
      if (given.augment) cfg.augment = v['no-augment'] ? {} : { ...(defaultRunConfig(dataPath, { recipe: v.recipe }).augment ?? {}), ...given.augment };
      if (dataPath === 'synthetic') {
        if (given.trainRows === undefined) cfg.trainRows = cfg.synthetic!.trainRows;
        if (cfg.split === 'usage') throw new FerError('--split usage needs --data with a Usage column; synthetic faces have none');
      }
    }
    if (cfg.augment) validateAugmentOptions(cfg.augment);
    const modelName: ModelName = choiceFlag('model', cfg.model, MODEL_NAMES, 'seed');
    const workers = intFlag('workers', v.workers, 0, 0, 64);

    const backend = await selectBackend(cfg.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);

    const t = performance.now();
    const data = await loadRunData(cfg);
    const loadSeconds = (performance.now() - t) / 1000;
    const what = cfg.data === 'synthetic' ? data.source : `${data.source} (${data.format})`;
    console.log(`data: ${what}: ${data.size} faces in ${loadSeconds.toFixed(1)} s${data.skipped ? `, ${data.skipped} bad rows skipped` : ''}`);
    const split = runSplit(cfg, data);
    console.log(`split: ${split.description}`);
    const optimizer: OptimizerSpec = { name: cfg.optimizer ?? 'adam', momentum: cfg.momentum, nesterov: cfg.nesterov };
    console.log(
      `${cfg.recipe ? `recipe: ${cfg.recipe}; ` : ''}model: ${cfg.model}, ${cfg.epochs} epochs, batch ${cfg.batch}, ${describeOptimizer(optimizer)} lr ${cfg.lr} (${cfg.lrSchedule})` +
        `${cfg.weightDecay ? `, weight decay ${cfg.weightDecay}` : ''}${cfg.labelSmoothing ? `, label smoothing ${cfg.labelSmoothing}` : ''}${cfg.dropout ? `, dropout ${cfg.dropout}` : ''}, seed ${cfg.seed}`,
    );
    console.log(`augmentation: ${describeAugmentation(cfg.augment)}`);
    let teacher: Float32Array | undefined;
    if (cfg.teachers?.length) {
      // computed once, at the start, and kept in the run: --resume reads them back and needs none of the teachers
      const file = runPaths(outDir).teacher;
      if (v.resume) teacher = await loadTeacherProbabilities(file, split.train.size);
      else {
        const bar = new ProgressBar();
        const t0 = performance.now();
        teacher = await teacherProbabilities(cfg.teachers, split.train, (done, total) =>
          bar.update('teachers', done, total, `faces (${plural(cfg.teachers!.length, 'run')})`, (performance.now() - t0) / 1000),
        );
        bar.clear();
        await mkdir(outDir, { recursive: true });
        await saveTeacherProbabilities(file, teacher);
        console.log(
          `teachers: the probabilities of ${plural(cfg.teachers.length, 'run')} on the ${split.train.size} training faces in ${formatDuration((performance.now() - t0) / 1000)} (${file})`,
        );
      }
      console.log(
        `distillation: target = ${1 - cfg.teacherWeight!} x labels${cfg.labelSmoothing ? ' (smoothed)' : ''} + ${cfg.teacherWeight} x the teachers' mean probabilities (${cfg.teachers.join(', ')})`,
      );
    }
    console.log(`run: ${outDir}`);

    // wasm runs one thread per backend instance: worker_threads put the other cores to work
    const threads = workers || (backend.name === 'wasm' ? Math.min(2, os.availableParallelism()) : 1);
    const modelOptions = cfg.dropout === undefined ? undefined : { dropout: cfg.dropout };
    const makeStepper =
      threads > 1
        ? (model: tf.LayersModel, opt: tf.Optimizer, loss: LossOptions) => createDataParallelStepper({ model, modelName, modelOptions, loss, optimizer: opt, workers: threads })
        : undefined;
    if (threads > 1) console.log(`threads: ${threads} data-parallel worker_threads, each on a share of every batch`);

    const runJson = createRunJson({
      runDir: outDir,
      command: ['fer', 'train', ...argv].join(' '),
      config: cfg,
      data,
      split,
      backend,
      threads,
      tfjsVersion: tf.version.tfjs,
      dataLoadSeconds: loadSeconds,
      startedAt: new Date(started),
    });
    await writeRunJson(outDir, runJson);

    const bar = new ProgressBar();
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      bar.clear();
      console.error('\nstopping after this batch and saving a checkpoint (Ctrl-C again to quit without saving)');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);

    let plotHistory: ((dir: string) => Promise<unknown>) | undefined;
    try {
      plotHistory = ((await import('@fer/viz')) as { plotHistory?: (dir: string) => Promise<unknown> }).plotHistory;
    } catch {
      plotHistory = undefined;
    }
    let lastEpochSeconds: number | undefined;
    let result: Awaited<ReturnType<typeof trainModel>>;
    try {
      result = await trainModel({
        train: split.train,
        validation: split.validation,
        model: modelName,
        epochs: cfg.epochs,
        batchSize: cfg.batch,
        learningRate: cfg.lr,
        lrSchedule: cfg.lrSchedule,
        warmupEpochs: cfg.warmupEpochs,
        optimizer,
        loss: { labelSmoothing: cfg.labelSmoothing, weightDecay: cfg.weightDecay, teacherWeight: cfg.teacherWeight },
        augment: cfg.augment,
        teacher,
        modelOptions,
        seed: cfg.seed,
        outDir,
        resume: v.resume,
        signal: controller.signal,
        makeStepper,
        callbacks: {
          onBatch: (p) => {
            // the whole run's time left: this epoch's rest at its pace, then whole epochs as long as the last one took
            const perBatch = p.seconds / p.batch;
            const runLeft = (p.batches - p.batch) * perBatch + (p.epochs - p.epoch) * (lastEpochSeconds ?? p.batches * perBatch);
            bar.update(
              `epoch ${p.epoch}/${p.epochs}`,
              p.batch,
              p.batches,
              `loss ${p.loss.toFixed(4)} acc ${(p.acc * 100).toFixed(1)}% ${((p.batch * cfg.batch) / Math.max(p.seconds, 1e-9)).toFixed(0)} img/s, run ends in ~${formatDuration(runLeft)}`,
              p.seconds,
            );
          },
          onPhase: (phase) => {
            if (phase === 'validate' && bar.isTTY) process.stderr.write(`\r\x1b[K  validating on ${split.validation.size} faces...`);
          },
          onEpochEnd: async (r: EpochRecord) => {
            lastEpochSeconds = r.seconds;
            bar.clear();
            console.log(
              `epoch ${String(r.epoch).padStart(String(cfg.epochs).length)}/${cfg.epochs}  loss ${r.loss.toFixed(4)}  acc ${(r.acc * 100).toFixed(2)}%  val_loss ${r.val_loss.toFixed(4)}  val_acc ${(r.val_acc * 100).toFixed(2)}%  ${formatDuration(r.seconds)}${r.rss_mb === undefined ? '' : `  rss ${r.rss_mb} MB`}`,
            );
            if (plotHistory) await plotHistory(outDir).catch((e: Error) => console.error(`(could not draw the history plots: ${e.message})`));
          },
        },
      });
    } catch (e) {
      bar.clear();
      await writeRunJson(outDir, { ...runJson, status: 'failed', timings: { ...runJson.timings, failedAt: new Date().toISOString() }, error: (e as Error).message });
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    bar.clear();
    const seconds = (Date.now() - started) / 1000;
    const last = result.history[result.history.length - 1];
    const trainedImages = result.history.slice(result.startEpoch).length * split.train.size;
    await writeRunJson(outDir, {
      ...runJson,
      status: result.interrupted ? 'interrupted' : 'finished',
      timings: { ...runJson.timings, finishedAt: new Date().toISOString(), seconds, secondsPerEpoch: result.history.map((h) => h.seconds) },
      result: { epochs: result.history.length, bestEpoch: result.bestEpoch, bestValAcc: result.bestValAcc, final: last },
    });
    if (result.interrupted) {
      console.log(`interrupted: checkpoint saved in ${runPaths(outDir).last}\ncontinue with: pnpm fer train --resume --out ${outDir}`);
      return 130;
    }
    console.log(
      `\ndone in ${formatDuration(seconds)}: final val_acc ${(last.val_acc * 100).toFixed(2)}%, best ${(result.bestValAcc * 100).toFixed(2)}% at epoch ${result.bestEpoch}` +
        (trainedImages ? ` (${(trainedImages / result.history.slice(result.startEpoch).reduce((s, h) => s + h.seconds, 0)).toFixed(0)} img/s incl. validation)` : ''),
    );
    console.log(`run directory: ${outDir}`);
    return 0;
  },
};
