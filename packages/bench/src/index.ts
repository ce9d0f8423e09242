/**
 * @fer/bench: how fast fer trains and infers, per backend and batch size, beside PyTorch on the same
 * machine, with the ablation of fer's kernels and per-kernel profiles. `pnpm bench` runs it.
 */
export { runBench, type BenchOptions, type BenchResult } from './bench.js';
export { BENCH_DEFAULTS } from './defaults.js';
export { formatBenchTable } from './format.js';
export { OPTIMISATION_STAGES, type AblationRow } from './ablation.js';
export { measureLocal, measureParallel, profileBackend, rate, type BenchRow, type KernelProfile } from './measure.js';
export { findPython, torchAvailable, type TorchRow } from './torch.js';
