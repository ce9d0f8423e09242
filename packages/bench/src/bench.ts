import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { FerError, isModelName, MODEL_NAMES, nativeBuild, selectBackend, type BackendChoice, type ModelName } from '@fer/core';
import { measureAblation, type AblationRow } from './ablation.js';
import { measureDataLoading } from './data-loading.js';
import { BENCH_DEFAULTS } from './defaults.js';
import { measureLocal, measureParallel, profileBackend, type BenchRow, type KernelProfile } from './measure.js';
import { findPython, TORCH_MODELS, torchAvailable, torchBench, type TorchRow } from './torch.js';

export interface BenchOptions {
  /** The model measured, by its MODELS name (default seed); PyTorch runs the same model (torch_bench.py --model). */
  model?: ModelName;
  /** tfjs backends to measure; default: every one that starts here except the pure-JS cpu (under 1 image/s). */
  backends?: BackendChoice[];
  batches?: number[];
  /** Data-parallel workers for the parallel wasm rows (default: the number of CPU cores; 0 or 1: none). */
  workers?: number;
  /** Minimum seconds per measurement (after warm-up); BENCH_DEFAULTS.seconds. */
  seconds?: number;
  /**
   * Each batch size's measurements (PyTorch, then ours) are repeated this many times, interleaved, and
   * the best of each kept: on a shared machine the best round is the one least disturbed by others.
   */
  rounds?: number;
  /** Run the PyTorch reference side by side: 'auto' when Python with torch imports. */
  torch?: boolean | 'auto';
  /** The Python that runs torch_bench.py (default: python3 on PATH). */
  python?: string;
  /** Per-kernel time of one training and one inference step per backend (single thread). */
  profile?: boolean;
  /**
   * Also measure each of our optimisations cumulatively (single thread, wasm, at the first batch size
   * of 64 or the first given), under the same load, with the per-kernel profile of each stage.
   */
  ablation?: boolean;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

export interface BenchResult {
  machine: { cpu: string; cores: number; platform: string; loadAverage: { start: number[]; end: number[] } };
  date: string;
  versions: Record<string, string>;
  /** The model measured (MODELS name). */
  model: ModelName;
  results: BenchRow[];
  /** PyTorch at its default thread count (torchThreads), one row per batch size. */
  torch?: TorchRow[];
  /** PyTorch with every core (torch.set_num_threads(os.cpu_count()): torchAllCoresThreads), one row per batch size. */
  torchAllCores?: TorchRow[];
  /** Why the PyTorch reference did not run, when it did not. */
  torchSkipped?: string;
  torchThreads?: number;
  torchAllCoresThreads?: number;
  dataLoading?: { csvRowsPerSec: number; batchImagesPerSec: number };
  profile?: KernelProfile[];
  ablation?: AblationRow[];
}

/**
 * Training and inference throughput of a model (default the seed CNN) on each backend and batch size, the
 * data-loading speed, and (where Python with torch is present) PyTorch on the same model and batch, twice:
 * at its default thread count and with every core. All measured in the same run, each batch size's
 * PyTorch runs right before ours so that both see the same machine load.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const model = opts.model ?? 'seed';
  if (!isModelName(model)) throw new FerError(`unknown model "${model}"`, { hint: `choose one of: ${MODEL_NAMES.join(', ')}` });
  const batches = opts.batches ?? [...BENCH_DEFAULTS.batches];
  const seconds = opts.seconds ?? BENCH_DEFAULTS.seconds;
  const python = opts.python ?? (await findPython());
  const workers = opts.workers ?? os.availableParallelism?.() ?? os.cpus().length;
  const start = os.loadavg();
  const result: BenchResult = {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${process.platform}-${process.arch}`, loadAverage: { start, end: [] } },
    date: new Date().toISOString(),
    versions: { node: process.versions.node, tfjs: tf.version.tfjs },
    model,
    results: [],
  };
  let useTorch = false;
  if (opts.torch !== false) {
    const why = TORCH_MODELS.includes(model) ? await torchAvailable(python) : `torch_bench.py has no model "${model}" (it has ${TORCH_MODELS.join(', ')})`;
    if (why && opts.torch === true) throw new FerError(`the PyTorch reference was asked for, but ${why}`, { hint: 'pass --python a Python that imports torch, or --no-torch' });
    if (why) result.torchSkipped = why;
    else {
      useTorch = true;
      result.torch = [];
      result.torchAllCores = [];
    }
  }
  const wanted: BackendChoice[] = opts.backends ?? ['node', 'wasm'];
  const backends: { choice: BackendChoice; name: string }[] = [];
  for (const b of wanted) {
    try {
      const info = await selectBackend(b);
      if (!backends.some((x) => x.name === info.name)) backends.push({ choice: b, name: info.name });
      if (info.name === 'wasm') {
        result.versions.wasmSimd = String(info.simd);
        result.versions.relaxedSimd = String(nativeBuild() === 'relaxed');
      }
    } catch (e) {
      log(`skipping backend ${b}: ${(e as Error).message}`);
    }
  }
  const rounds = Math.max(1, opts.rounds ?? BENCH_DEFAULTS.rounds);
  const best = <T extends { trainImagesPerSec: number; inferImagesPerSec: number }>(a: T | undefined, b: T): T =>
    a ? { ...a, trainImagesPerSec: Math.max(a.trainImagesPerSec, b.trainImagesPerSec), inferImagesPerSec: Math.max(a.inferImagesPerSec, b.inferImagesPerSec) } : b;
  for (const batch of batches) {
    let torchRow: TorchRow | undefined;
    let torchAllRow: TorchRow | undefined;
    const ours = new Map<string, BenchRow>();
    for (let round = 1; round <= rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round}/${rounds})` : '';
      if (useTorch) {
        log(`pytorch ${model} batch ${batch}${tag}...`);
        const t = await torchBench(python!, batch, seconds, { model });
        torchRow = best(torchRow, t.row);
        result.versions.torch = t.version;
        result.torchThreads = t.threads;
        log(`pytorch ${model} batch ${batch}, every core${tag}...`);
        const all = await torchBench(python!, batch, seconds, { model, threads: 'all' });
        torchAllRow = best(torchAllRow, all.row);
        result.torchAllCoresThreads = all.threads;
      }
      for (const b of backends) {
        await selectBackend(b.choice);
        log(`${b.name} ${model} batch ${batch}${tag}...`);
        const local = await measureLocal(b.name, batch, seconds, model);
        ours.set(local.backend, best(ours.get(local.backend), local));
        if (b.name === 'wasm' && workers > 1) {
          log(`${b.name} x${workers} workers ${model} batch ${batch}${tag}...`);
          const par = await measureParallel(batch, workers, seconds, model);
          ours.set(par.backend, best(ours.get(par.backend), par));
        }
      }
    }
    if (torchRow) result.torch!.push(torchRow);
    if (torchAllRow) result.torchAllCores!.push(torchAllRow);
    result.results.push(...ours.values());
  }
  log('data loading...');
  result.dataLoading = await measureDataLoading();
  if (opts.ablation && backends.some((b) => b.name === 'wasm')) {
    await selectBackend('wasm');
    result.ablation = await measureAblation(batches.includes(BENCH_DEFAULTS.profileBatch) ? BENCH_DEFAULTS.profileBatch : batches[0], seconds, log, model);
  }
  if (opts.profile) {
    result.profile = [];
    for (const b of backends) {
      await selectBackend(b.choice);
      log(`profiling ${b.name}...`);
      result.profile.push(await profileBackend(b.name, batches.includes(BENCH_DEFAULTS.profileBatch) ? BENCH_DEFAULTS.profileBatch : batches[0], model));
    }
  }
  result.machine.loadAverage.end = os.loadavg();
  return result;
}
