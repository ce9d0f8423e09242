/** fer bench's defaults: runBench and the CLI's help both read them here. */
export const BENCH_DEFAULTS = {
  /** Batch sizes measured. */
  batches: [32, 64, 128],
  /** Minimum seconds per measurement, after warm-up. */
  seconds: 2,
  /** Interleaved rounds of PyTorch and ours; the best of each is kept. */
  rounds: 2,
  /** The batch size of the ablation and the profile (the first measured when it is not among them). */
  profileBatch: 64,
} as const;
