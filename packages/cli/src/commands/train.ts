import path from 'node:path';
import { existsSync } from 'node:fs';
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
  type EpochRecord,
  type ModelName,
  type RunConfig,
} from '@fer/core';
import type { Command } from '../command.js';
import { choiceFlag, intFlag, numberFlag, parseFlags, userPath } from '../args.js';
import { ProgressBar, formatDuration } from '../progress.js';

const USAGE = `usage: fer train [--data FILE|DIR] [flags]

Trains the report's CNN and writes a run directory (run.json, history.json/.csv, model/, checkpoints/, plots/).
Without --data it trains on built-in synthetic faces (${SYNTHETIC_DEFAULTS.train} train, ${SYNTHETIC_DEFAULTS.validation} validation).

  --data PATH         Kaggle fer2013.csv, NTU train.csv, or an image folder <emotion>/*.jpg; .gz is fine
  --model NAME        ${MODEL_NAMES.join(' or ')} (default seed, the report's CNN; fer summary --model NAME shows one)
  --epochs N          default ${REPORT_DEFAULTS.epochs} with --data, ${SYNTHETIC_DEFAULTS.epochs} on synthetic faces
  --batch N           default ${REPORT_DEFAULTS.batch} with --data, ${SYNTHETIC_DEFAULTS.batch} on synthetic faces
  --lr X              Adam learning rate; default ${REPORT_DEFAULTS.lr} with --data (the report's), ${SYNTHETIC_DEFAULTS.lr} on synthetic faces
  --lr-schedule S     constant (the report's; default with --data) or cosine (decay to 0; default on synthetic faces)
  --split rows|usage  rows (default): the first --train-rows rows train, the rest validate (the report's split);
                      usage: Kaggle's Usage column, Training trains and PublicTest validates
  --train-rows N      default ${REPORT_DEFAULTS.trainRows} (the report's)
  --limit N           load only the first N rows (quick runs); --train-rows then defaults to 80% of them
  --seed N            shuffling and initialisation (default 0)
  --skip-bad-rows     skip malformed rows instead of stopping, and say how many
  --backend NAME      auto (default: tfjs-node, else wasm, else cpu), node, wasm or cpu
  --workers N         data-parallel worker threads (default: 2 on wasm, where one backend uses one core; 1: none)
  --out DIR           the run directory (default runs/<date-time>)
  --resume            continue the run in --out from its last checkpoint (flags given override its run.json)

Ctrl-C stops after the current batch and saves a checkpoint that --resume continues from.`;

function timestamp(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
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
        model: { type: 'string' },
        epochs: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        'lr-schedule': { type: 'string' },
        split: { type: 'string' },
        'train-rows': { type: 'string' },
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
    let base: Partial<RunConfig> = {};
    if (v.resume) {
      if (!v.out) throw new FerError('--resume needs --out DIR: the run to continue', { hint: 'e.g. fer train --resume --out runs/2026-11-27-101500' });
      base = (await readRunJson(outDir)).config;
    } else if (existsSync(runPaths(outDir).runJson)) {
      throw new FerError(`${outDir} already holds a run`, { hint: 'pass --resume to continue it, or another --out to start a new one' });
    }
    const dataPath = v.data !== undefined ? userPath(v.data) : (base.data ?? 'synthetic');
    const limit = v.limit !== undefined ? intFlag('limit', v.limit, 0, 2) : base.limit;
    // defaults for this data, under what a resumed run had, under the flags given now
    const { synthetic, ...d } = defaultRunConfig(dataPath, { ...base, data: dataPath, limit });
    // a resumed run's model must still exist: choiceFlag says which ones do
    const modelName: ModelName = choiceFlag('model', v.model ?? d.model, MODEL_NAMES, 'seed');
    const cfg: RunConfig = {
      data: dataPath,
      model: modelName,
      epochs: intFlag('epochs', v.epochs, d.epochs, 1, 10000),
      batch: intFlag('batch', v.batch, d.batch, 1, 4096),
      lr: numberFlag('lr', v.lr, d.lr, 0, 10),
      lrSchedule: choiceFlag('lr-schedule', v['lr-schedule'], ['constant', 'cosine'] as const, d.lrSchedule),
      seed: intFlag('seed', v.seed, d.seed, 0, 2 ** 31 - 1),
      split: choiceFlag('split', v.split, ['rows', 'usage'] as const, d.split),
      trainRows: intFlag('train-rows', v['train-rows'], d.trainRows, 1),
      limit,
      skipBadRows: v['skip-bad-rows'] ?? d.skipBadRows,
      backend: choiceFlag('backend', v.backend, BACKEND_CHOICES, d.backend),
    };
    if (dataPath === 'synthetic') {
      cfg.synthetic = synthetic;
      cfg.trainRows = v['train-rows'] !== undefined ? cfg.trainRows : synthetic!.trainRows;
      if (cfg.split === 'usage') throw new FerError('--split usage needs --data with a Usage column; synthetic faces have none');
    }
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
    console.log(`model: ${cfg.model}, ${cfg.epochs} epochs, batch ${cfg.batch}, Adam lr ${cfg.lr} (${cfg.lrSchedule}), seed ${cfg.seed}`);
    console.log(`run: ${outDir}`);

    // wasm runs one thread per backend instance: worker_threads put the other cores to work
    const threads = workers || (backend.name === 'wasm' ? Math.min(2, os.availableParallelism()) : 1);
    const makeStepper = threads > 1 ? (model: tf.LayersModel, optimizer: tf.Optimizer) => createDataParallelStepper({ model, modelName, optimizer, workers: threads }) : undefined;
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
        seed: cfg.seed,
        outDir,
        resume: v.resume,
        signal: controller.signal,
        makeStepper,
        callbacks: {
          onBatch: (p) =>
            bar.update(
              `epoch ${p.epoch}/${p.epochs}`,
              p.batch,
              p.batches,
              `loss ${p.loss.toFixed(4)} acc ${(p.acc * 100).toFixed(1)}% ${((p.batch * cfg.batch) / Math.max(p.seconds, 1e-9)).toFixed(0)} img/s`,
              p.seconds,
            ),
          onPhase: (phase) => {
            if (phase === 'validate' && bar.isTTY) process.stderr.write(`\r\x1b[K  validating on ${split.validation.size} faces...`);
          },
          onEpochEnd: async (r: EpochRecord) => {
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
