/**
 * Every switch and tunable of fer's fast paths, in one place. Each is on by default, read once from the
 * environment when this module loads (so a user can turn one off for a whole run to compare or to work
 * around a problem), and changed in code only through `withFlags`, which scopes the change to one call:
 * the benchmark's ablation and the tests use it.
 *
 * | flag                | environment                    | what it does                                                                  |
 * | ------------------- | ------------------------------ | ----------------------------------------------------------------------------- |
 * | winograd            | FER_NO_WINOGRAD=1 (off)        | 3x3 stride-1 convolutions (all three passes) by Winograd F(4x4,3x3) in C      |
 * | oneChannelConv      | FER_NO_ONE_CHANNEL_CONV=1      | one-input-channel convolutions (a grey image's first layer) and their dW in C  |
 * | nativeMatMul        | FER_NO_NATIVE_MATMUL=1         | dense layers' matrix products in C instead of XNNPACK                          |
 * | simdKernels         | FER_NO_SIMD_KERNELS=1          | fer's WebAssembly SIMD kernels (simd.wat); JS loops otherwise                  |
 * | relaxedSimd         | FER_NO_RELAXED_SIMD=1          | native.c's relaxed-SIMD build (fused multiply-adds) where the runtime has it   |
 * | fusedAdam           | FER_NO_FUSED_ADAM=1            | Adam as one native pass per variable instead of tfjs's eleven kernels          |
 * | unfusedInputConv    | FER_FUSED_INPUT_CONV=1 (off)   | the first conv layer as fer's conv+bias op, which skips dL/d(images)           |
 * | smallChannelGradMax | FER_SMALL_CHANNEL_GRAD_MAX=N   | conv gradients with at most N input channels as matrix products (0: off)      |
 * | winogradTileBlock   | FER_WINOGRAD_TILE_BLOCK=N      | Winograd tiles per block (0: sized for the cache from the channel counts)     |
 * | winogradMosaic      | FER_NO_WINOGRAD_MOSAIC=1       | small 'same' images laid side by side as one image for Winograd (fewer tiles) |
 * | wholeBatchBlocks    | FER_NO_WHOLE_BATCH_BLOCKS=1    | Winograd forward passes with a filter over 6 MB take the batch as one block  |
 */
export interface Flags {
  winograd: boolean;
  oneChannelConv: boolean;
  nativeMatMul: boolean;
  simdKernels: boolean;
  relaxedSimd: boolean;
  fusedAdam: boolean;
  unfusedInputConv: boolean;
  smallChannelGradMax: number;
  winogradTileBlock: number;
  winogradMosaic: boolean;
  wholeBatchBlocks: boolean;
}

/** The defaults, before the environment. */
export const DEFAULT_FLAGS: Readonly<Flags> = Object.freeze({
  winograd: true,
  oneChannelConv: true,
  nativeMatMul: true,
  simdKernels: true,
  relaxedSimd: true,
  fusedAdam: true,
  unfusedInputConv: true,
  smallChannelGradMax: 4,
  winogradTileBlock: 0,
  winogradMosaic: true,
  wholeBatchBlocks: true,
});

/** The environment variable of each flag: set to 1 it turns a boolean flag off; a number sets a numeric one. */
export const FLAG_ENV: Readonly<Record<keyof Flags, string>> = Object.freeze({
  winograd: 'FER_NO_WINOGRAD',
  oneChannelConv: 'FER_NO_ONE_CHANNEL_CONV',
  nativeMatMul: 'FER_NO_NATIVE_MATMUL',
  simdKernels: 'FER_NO_SIMD_KERNELS',
  relaxedSimd: 'FER_NO_RELAXED_SIMD',
  fusedAdam: 'FER_NO_FUSED_ADAM',
  unfusedInputConv: 'FER_FUSED_INPUT_CONV',
  smallChannelGradMax: 'FER_SMALL_CHANNEL_GRAD_MAX',
  winogradTileBlock: 'FER_WINOGRAD_TILE_BLOCK',
  winogradMosaic: 'FER_NO_WINOGRAD_MOSAIC',
  wholeBatchBlocks: 'FER_NO_WHOLE_BATCH_BLOCKS',
});

/** The flags as the environment sets them over the defaults. */
export function flagsFromEnv(env: Record<string, string | undefined>): Flags {
  const flags: Flags = { ...DEFAULT_FLAGS };
  for (const key of Object.keys(FLAG_ENV) as (keyof Flags)[]) {
    const raw = env[FLAG_ENV[key]];
    if (raw === undefined || raw === '' || raw === '0') continue;
    if (typeof DEFAULT_FLAGS[key] === 'boolean') (flags as unknown as Record<string, boolean>)[key] = !DEFAULT_FLAGS[key];
    else {
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 0) (flags as unknown as Record<string, number>)[key] = n;
    }
  }
  return flags;
}

const current: Flags = flagsFromEnv(process.env);

/** The flags in force (read-only: change them with withFlags). */
export const flags: Readonly<Flags> = current;

/**
 * Runs `fn` with some flags changed and puts them back afterwards, also when it throws; async functions
 * are awaited before the flags are restored. Nested calls restore in order.
 */
export function withFlags<T>(changes: Partial<Flags>, fn: () => T): T {
  const saved: Flags = { ...current };
  Object.assign(current, changes);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    Object.assign(current, saved);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => Object.assign(current, saved)) as T;
  Object.assign(current, saved);
  return result;
}
