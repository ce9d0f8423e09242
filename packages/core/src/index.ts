/**
 * @fer/core: FER2013 data, the models, backends with fer's kernels, training, run directories,
 * evaluation and what the models look at. Benchmarks live in @fer/bench, plots in @fer/viz.
 */
export * from './errors.js';
export * from './classes.js';
export { DEFAULT_FLAGS, FLAG_ENV, flags, flagsFromEnv, withFlags, type Flags } from './flags.js';
export * from './random.js';
export * from './files.js';
export * from './data/dataset.js';
export * from './data/csv.js';
export * from './data/synthetic.js';
export * from './data/images.js';
export * from './data/load.js';
export * from './data/augment.js';
export * from './models/index.js';
export * from './backend/select.js';
export { nativeBuild, relaxedSimdSupported } from './backend/native/native.js';
export { FER_OPS, GRADIENT_OVERRIDES, KERNEL_OVERRIDES, registerFerOps, registerWasmTrainingKernels, useFerKernels, type FerOp } from './backend/registry.js';
export { formatKernelProfile, profileKernels, type KernelProfiler, type KernelTime } from './backend/profile.js';
export * from './rundir/index.js';
export * from './evaluation/index.js';
export * from './training/train.js';
export * from './training/defaults.js';
export * from './training/optimizers.js';
export * from './training/schedules.js';
export * from './training/recipes.js';
export * from './training/teacher.js';
export type { BatchGradients, LossOptions } from './training/gradients.js';
export { createLocalStepper, type BatchStepper } from './training/stepper.js';
export { createDataParallelStepper, shareSizes, type DataParallelStepper, type StepperOptions } from './training/parallel/stepper.js';
export * from './analysis/index.js';
export * from './detect/index.js';
