import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendChoice } from './backend.js';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from './classes.js';
import { loadDataset } from './data/load.js';
import { syntheticFaces } from './data/synthetic.js';
import { useFerKernels } from './kernels/index.js';
import { formatKernelProfile, profileKernels, type KernelTime } from './kernels/profile.js';
import { SMALL_CHANNELS } from './kernels/small_channels.js';
import { NATIVE } from './kernels/native.js';
import { FUSED_ADAM } from './kernels/fused_adam.js';
import { MODEL_BUILD, seedCnn } from './models.js';
import { createDataParallelStepper, createLocalStepper, type BatchStepper } from './parallel/stepper.js';

export interface BenchOptions {
  /** tfjs backends to measure; default: every one that starts here except the pure-JS cpu (under 1 image/s). */
  backends?: BackendChoice[];
  batches?: number[];
  /** Data-parallel workers for the parallel wasm rows (default: the number of CPU cores; 0 or 1: none). */
  workers?: number;
  /** Minimum seconds per measurement (after warm-up). */
  seconds?: number;
  /**
   * Each batch size's measurements (PyTorch, then ours) are repeated this many times, interleaved, and
   * the best of each kept: on a shared machine the best round is the one least disturbed by others.
   */
  rounds?: number;
  /** Run the PyTorch reference side by side: 'auto' when Debian's python3-torch imports. */
  torch?: boolean | 'auto';
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

export interface BenchRow {
  /** 'wasm', 'wasm-parallel' (data-parallel over worker threads), 'tensorflow' (tfjs-node) or 'cpu'. */
  backend: string;
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  /** Threads doing the work: 1, or the data-parallel workers. */
  workers: number;
}

export interface TorchRow {
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
}

export interface BenchResult {
  machine: { cpu: string; cores: number; platform: string; loadAverage: { start: number[]; end: number[] } };
  date: string;
  versions: Record<string, string>;
  results: BenchRow[];
  torch?: TorchRow[];
  /** Why the PyTorch reference did not run, when it did not. */
  torchSkipped?: string;
  torchThreads?: number;
  dataLoading?: { csvRowsPerSec: number; batchImagesPerSec: number };
  profile?: { backend: string; batch: number; train: KernelTime[]; infer: KernelTime[] }[];
  ablation?: AblationRow[];
}

export interface AblationRow {
  stage: string;
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  /** The training step's slowest kernels at this stage. */
  top: KernelTime[];
}

/** Our optimisations in the order they were made; each stage adds its kernels to the previous ones. */
export const OPTIMISATION_STAGES: { stage: string; kernels: string[]; smallChannels?: boolean; simd?: boolean; switches?: (keyof typeof SWITCHES)[] }[] = [
  { stage: 'prototype: Conv2DBackpropFilter only', kernels: ['Conv2DBackpropFilter'] },
  { stage: '+ Conv2DBackpropInput as forward conv', kernels: ['Conv2DBackpropInput'] },
  { stage: '+ MaxPoolGrad, BatchMatMul, Sum, LeakyRelu/BN gradients', kernels: ['MaxPoolGrad', 'BatchMatMul', 'Sum', 'LeakyRelu_grad', 'FusedBatchNorm_grad'] },
  { stage: '+ first-layer gradients as matrix products', kernels: [], smallChannels: true },
  { stage: '+ Identity by reference', kernels: ['Identity'] },
  { stage: '+ own WebAssembly SIMD kernels, LeakyRelu, Mean, MaxPool', kernels: ['LeakyRelu', 'Mean', 'MaxPool'], simd: true },
  { stage: '+ Winograd F(4x4,3x3) for 3x3 convs, all three passes', kernels: ['Conv2D', 'FusedConv2D'], switches: ['winograd'] },
  { stage: '+ one-input-channel conv and its filter gradient in C', kernels: [], switches: ['oneChannel'] },
  { stage: '+ first conv layer unfused: no dL/dimages', kernels: [], switches: ['unfusedInput'] },
  { stage: '+ Mean gradient without a ones tensor', kernels: ['Mean_grad'] },
  { stage: '+ fused Adam', kernels: [], switches: ['fusedAdam'] },
  { stage: '+ dense layers on fer\'s matrix product', kernels: ['_FusedMatMul'], switches: ['matmul'] },
];

const PYTHON = '/usr/bin/python3';

const here = (() => {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return __filename;
  }
})();

function torchScript(): string | undefined {
  const dir = dirname(here);
  return [join(dir, '..', 'bench', 'torch_bench.py'), join(dir, 'bench', 'torch_bench.py')].find((f) => existsSync(f));
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Whether the PyTorch reference can run here; the reason when not. */
export async function torchAvailable(): Promise<string | undefined> {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!torchScript()) return 'bench/torch_bench.py not found beside the package';
  const r = await run(PYTHON, ['-c', 'import torch'], 60_000);
  return r.code === 0 ? undefined : `${PYTHON} cannot import torch (apt-get install python3-torch)`;
}

async function torchBench(batch: number, seconds: number): Promise<{ row: TorchRow; version: string; threads: number }> {
  const r = await run(PYTHON, [torchScript()!, '--batches', String(batch), '--seconds', String(seconds)], 600_000);
  if (r.code !== 0) throw new Error(`torch_bench.py failed: ${r.stderr.trim().split('\n').pop()}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; results: TorchRow[] };
  return { row: out.results[0], version: out.torch, threads: out.threads };
}

/** Calls fn (after `warmup` calls) until both minIters calls and minSeconds have passed; calls per second. */
async function rate(fn: () => Promise<unknown> | unknown, minSeconds: number, minIters = 3, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  for (;;) {
    await fn();
    n++;
    const dt = (performance.now() - t0) / 1000;
    if (n >= minIters && dt >= minSeconds) return n / dt;
  }
}

function batchData(batch: number): { x: Float32Array; labels: Int32Array } {
  const d = syntheticFaces({ count: batch, seed: 1 });
  return { x: Float32Array.from(d.pixels, (v) => v / 255), labels: Int32Array.from(d.labels) };
}

async function measureLocal(backend: string, batch: number, seconds: number): Promise<BenchRow> {
  const model = seedCnn();
  const stepper: BatchStepper = createLocalStepper({ model, optimizer: tf.train.adam(1e-4) });
  const { x, labels } = batchData(batch);
  const train = await rate(() => stepper.step(x, labels), seconds);
  const xs = tf.tensor4d(x, [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const infer = await rate(() => tf.tidy(() => (model.predict(xs, { batchSize: batch }) as tf.Tensor).dataSync()), seconds);
  xs.dispose();
  tf.disposeVariables();
  return { backend, batch, trainImagesPerSec: train * batch, inferImagesPerSec: infer * batch, workers: 1 };
}

async function measureParallel(batch: number, workers: number, seconds: number): Promise<BenchRow> {
  const model = seedCnn();
  const stepper = await createDataParallelStepper({ model, modelName: 'seed', optimizer: tf.train.adam(1e-4), workers });
  try {
    const { x, labels } = batchData(batch);
    const train = await rate(() => stepper.step(x, labels), seconds);
    const infer = await rate(() => stepper.predict(x), seconds);
    return { backend: `${tf.getBackend()}-parallel`, batch, trainImagesPerSec: train * batch, inferImagesPerSec: infer * batch, workers };
  } finally {
    await stepper.dispose();
    tf.disposeVariables();
  }
}

async function profileBackend(backend: string, batch: number): Promise<{ backend: string; batch: number; train: KernelTime[]; infer: KernelTime[] }> {
  const model = seedCnn();
  const stepper = createLocalStepper({ model, optimizer: tf.train.adam(1e-4) });
  const { x, labels } = batchData(batch);
  for (let i = 0; i < 2; i++) await stepper.step(x, labels);
  const p = profileKernels(tf.getBackend());
  try {
    const steps = 3;
    for (let i = 0; i < steps; i++) await stepper.step(x, labels);
    const train = p.report().map((r) => ({ ...r, ms: r.ms / steps, calls: r.calls / steps }));
    p.reset();
    const xs = tf.tensor4d(x, [batch, IMAGE_SIZE, IMAGE_SIZE, 1]);
    tf.tidy(() => (model.predict(xs, { batchSize: batch }) as tf.Tensor).dataSync());
    const infer = p.report();
    xs.dispose();
    return { backend, batch, train, infer };
  } finally {
    p.stop();
    tf.disposeVariables();
  }
}

/** On/off switches of the optimisations that are not kernels of their own. */
const SWITCHES = {
  winograd: (on: boolean) => (NATIVE.winograd = on),
  oneChannel: (on: boolean) => (NATIVE.oneChannel = on),
  unfusedInput: (on: boolean) => (MODEL_BUILD.unfusedInputConv = on),
  fusedAdam: (on: boolean) => (FUSED_ADAM.enabled = on),
  matmul: (on: boolean) => (NATIVE.matmul = on),
};

async function measureAblation(batch: number, seconds: number, log: (l: string) => void): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  const on = new Set<string>();
  const limits = { ...SMALL_CHANNELS };
  const noSimd = process.env.FER_NO_SIMD_KERNELS;
  try {
    process.env.FER_NO_SIMD_KERNELS = '1';
    for (const sw of Object.values(SWITCHES)) sw(false);
    for (const s of OPTIMISATION_STAGES) {
      if (s.simd) delete process.env.FER_NO_SIMD_KERNELS;
      for (const sw of s.switches ?? []) SWITCHES[sw](true);
      s.kernels.forEach((k) => on.add(k));
      SMALL_CHANNELS.backpropInput = SMALL_CHANNELS.backpropFilter = on.has('smallChannels') || s.smallChannels ? limits.backpropInput : 0;
      if (s.smallChannels) on.add('smallChannels');
      useFerKernels((k) => on.has(k));
      log(`ablation: ${s.stage}...`);
      const r = await measureLocal('wasm', batch, seconds);
      const p = await profileBackend('wasm', batch);
      rows.push({ stage: s.stage, batch, trainImagesPerSec: r.trainImagesPerSec, inferImagesPerSec: r.inferImagesPerSec, top: p.train.slice(0, 6) });
    }
  } finally {
    if (noSimd === undefined) delete process.env.FER_NO_SIMD_KERNELS;
    else process.env.FER_NO_SIMD_KERNELS = noSimd;
    Object.assign(SMALL_CHANNELS, limits);
    for (const sw of Object.values(SWITCHES)) sw(true);
    useFerKernels(() => true);
  }
  return rows;
}

/** Parsing a Kaggle CSV (rows/s) and turning bytes into a float batch (images/s). */
async function measureDataLoading(): Promise<{ csvRowsPerSec: number; batchImagesPerSec: number }> {
  const rows = 2000;
  const d = syntheticFaces({ count: rows, seed: 2 });
  const dir = mkdtempSync(join(os.tmpdir(), 'fer-bench-'));
  try {
    const lines = ['emotion,pixels,Usage'];
    for (let i = 0; i < rows; i++) lines.push(`${d.labels[i]},${Array.from(d.pixels.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE)).join(' ')},Training`);
    const file = join(dir, 'fer2013.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const t0 = performance.now();
    await loadDataset(file);
    const csvRowsPerSec = rows / ((performance.now() - t0) / 1000);
    const batch = 128;
    const perSec = await rate(() => {
      const x = new Float32Array(batch * PIXELS_PER_IMAGE);
      for (let i = 0; i < x.length; i++) x[i] = d.pixels[i] / 255;
      return x;
    }, 0.5);
    return { csvRowsPerSec, batchImagesPerSec: perSec * batch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Training and inference throughput of the seed CNN on each backend and batch size, the data-loading
 * speed, and (where Debian's python3-torch is present) PyTorch on the same model and batch, measured
 * in the same run, each batch size's PyTorch run right before ours so both see the same machine load.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const batches = opts.batches ?? [32, 64, 128];
  const seconds = opts.seconds ?? 2;
  const workers = opts.workers ?? (os.availableParallelism?.() ?? os.cpus().length);
  const start = os.loadavg();
  const result: BenchResult = {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, platform: `${process.platform}-${process.arch}`, loadAverage: { start, end: [] } },
    date: new Date().toISOString(),
    versions: { node: process.versions.node, tfjs: tf.version.tfjs },
    results: [],
  };
  let useTorch = false;
  if (opts.torch !== false) {
    const why = await torchAvailable();
    if (why && opts.torch === true) throw new Error(`PyTorch reference asked for but ${why}`);
    if (why) result.torchSkipped = why;
    else {
      useTorch = true;
      result.torch = [];
    }
  }
  const wanted: BackendChoice[] = opts.backends ?? ['node', 'wasm'];
  const backends: { choice: BackendChoice; name: string }[] = [];
  for (const b of wanted) {
    try {
      const info = await selectBackend(b);
      if (!backends.some((x) => x.name === info.name)) backends.push({ choice: b, name: info.name });
      if (info.name === 'wasm') result.versions.wasmSimd = String(info.simd);
    } catch (e) {
      log(`skipping backend ${b}: ${(e as Error).message}`);
    }
  }
  const rounds = Math.max(1, opts.rounds ?? 2);
  const best = <T extends { trainImagesPerSec: number; inferImagesPerSec: number }>(a: T | undefined, b: T): T =>
    a ? { ...a, trainImagesPerSec: Math.max(a.trainImagesPerSec, b.trainImagesPerSec), inferImagesPerSec: Math.max(a.inferImagesPerSec, b.inferImagesPerSec) } : b;
  for (const batch of batches) {
    let torchRow: TorchRow | undefined;
    const ours = new Map<string, BenchRow>();
    for (let round = 1; round <= rounds; round++) {
      const tag = rounds > 1 ? ` (round ${round}/${rounds})` : '';
      if (useTorch) {
        log(`pytorch batch ${batch}${tag}...`);
        const t = await torchBench(batch, seconds);
        torchRow = best(torchRow, t.row);
        result.versions.torch = t.version;
        result.torchThreads = t.threads;
      }
      for (const b of backends) {
        await selectBackend(b.choice);
        log(`${b.name} batch ${batch}${tag}...`);
        const local = await measureLocal(b.name, batch, seconds);
        ours.set(local.backend, best(ours.get(local.backend), local));
        if (b.name === 'wasm' && workers > 1) {
          log(`${b.name} x${workers} workers batch ${batch}${tag}...`);
          const par = await measureParallel(batch, workers, seconds);
          ours.set(par.backend, best(ours.get(par.backend), par));
        }
      }
    }
    if (torchRow) result.torch!.push(torchRow);
    result.results.push(...ours.values());
  }
  log('data loading...');
  result.dataLoading = await measureDataLoading();
  if (opts.ablation && backends.some((b) => b.name === 'wasm')) {
    await selectBackend('wasm');
    result.ablation = await measureAblation(batches.includes(64) ? 64 : batches[0], seconds, log);
  }
  if (opts.profile) {
    result.profile = [];
    for (const b of backends) {
      await selectBackend(b.choice);
      log(`profiling ${b.name}...`);
      result.profile.push(await profileBackend(b.name, batches.includes(64) ? 64 : batches[0]));
    }
  }
  result.machine.loadAverage.end = os.loadavg();
  return result;
}

const f1 = (v: number) => v.toFixed(1);

/** The result as a plain-text table (ratios to PyTorch at the same batch where it ran). */
export function formatBenchTable(r: BenchResult): string {
  const torch = new Map((r.torch ?? []).map((t) => [t.batch, t]));
  const head = ['backend', 'workers', 'batch', 'train img/s', 'infer img/s', ...(r.torch ? ['train vs torch', 'infer vs torch'] : [])];
  const rows: string[][] = [];
  for (const t of r.torch ?? []) rows.push([`pytorch ${r.versions.torch ?? ''}`.trim(), String(r.torchThreads ?? ''), String(t.batch), f1(t.trainImagesPerSec), f1(t.inferImagesPerSec), ...(r.torch ? ['1.00x', '1.00x'] : [])]);
  for (const x of r.results) {
    const t = torch.get(x.batch);
    rows.push([x.backend, String(x.workers), String(x.batch), f1(x.trainImagesPerSec), f1(x.inferImagesPerSec), ...(r.torch ? [t ? `${(x.trainImagesPerSec / t.trainImagesPerSec).toFixed(2)}x` : '', t ? `${(x.inferImagesPerSec / t.inferImagesPerSec).toFixed(2)}x` : ''] : [])]);
  }
  rows.sort((a, b) => Number(a[2]) - Number(b[2]));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const lines = [
    `seed CNN throughput, ${r.machine.cpu}, ${r.machine.cores} cores, load ${r.machine.loadAverage.start.map(f1).join(' ')} -> ${r.machine.loadAverage.end.map(f1).join(' ')}, ${r.date}`,
    `versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    fmt(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
  ];
  if (r.torchSkipped) lines.push(`pytorch reference skipped: ${r.torchSkipped}`);
  if (r.dataLoading) lines.push(`data loading: CSV parse ${Math.round(r.dataLoading.csvRowsPerSec).toLocaleString('en-US')} rows/s, batch assembly ${Math.round(r.dataLoading.batchImagesPerSec).toLocaleString('en-US')} images/s`);
  if (r.ablation?.length) {
    const t = torch.get(r.ablation[0].batch);
    lines.push('', `each optimisation, cumulative (wasm, one thread, batch ${r.ablation[0].batch}${t ? ', ratio to PyTorch at that batch' : ''}):`);
    for (const a of r.ablation) {
      const ratio = t ? `  ${(a.trainImagesPerSec / t.trainImagesPerSec).toFixed(2)}x / ${(a.inferImagesPerSec / t.inferImagesPerSec).toFixed(2)}x` : '';
      lines.push(`  ${a.stage.padEnd(58)} train ${f1(a.trainImagesPerSec).padStart(6)}  infer ${f1(a.inferImagesPerSec).padStart(6)} img/s${ratio}`);
      lines.push(`    top kernels (ms/step): ${a.top.map((k) => `${k.kernel} ${k.ms.toFixed(0)}`).join(', ')}`);
    }
  }
  for (const p of r.profile ?? []) {
    lines.push('', `per-kernel time, ${p.backend}, one thread, batch ${p.batch}: training step`, formatKernelProfile(p.train, 1, 20), '', `inference (one batch)`, formatKernelProfile(p.infer, 1, 8));
  }
  return lines.join('\n');
}
