import type { RunConfig } from '../rundir/run-json.js';
import { getRecipe } from './recipes.js';

/**
 * fer train's defaults, in one place: the CLI's help and flags, run.json and the tests read them here.
 */

/** Without --data: a synthetic set big and easy enough to pass 90% in a few minutes on 2 cores. */
export const SYNTHETIC_DEFAULTS = { train: 3500, validation: 700, seed: 1, epochs: 4, lr: 1e-3, batch: 32, lrSchedule: 'cosine' } as const;

/** With --data: the report's recipe (Adam 1e-4, 30 epochs, batch 64, the first 25,000 rows train). */
export const REPORT_DEFAULTS = { epochs: 30, lr: 1e-4, batch: 64, trainRows: 25000, lrSchedule: 'constant' } as const;

/** The share of loaded rows that train when --limit cuts a file short and --train-rows is not given. */
export const LIMIT_TRAIN_SHARE = 0.8;

/** How many rows train when --train-rows is not given. */
export function defaultTrainRows(options: { synthetic: boolean; limit?: number }): number {
  if (options.synthetic) return SYNTHETIC_DEFAULTS.train;
  return options.limit ? Math.floor(options.limit * LIMIT_TRAIN_SHARE) : REPORT_DEFAULTS.trainRows;
}

/**
 * A run's config with every default `fer train` fills in for this data ('synthetic' or a path) and recipe
 * (given.recipe; default `report` with a file, the quick synthetic settings without), then `given` on top.
 * `fer train` starts from it, and so do tests that need a run directory.
 */
export function defaultRunConfig(data: string, given: Partial<RunConfig> = {}): RunConfig {
  const synthetic = data === 'synthetic';
  const recipe = given.recipe ? getRecipe(given.recipe) : undefined;
  const d = recipe ?? (synthetic ? SYNTHETIC_DEFAULTS : REPORT_DEFAULTS);
  const { description: _, ...fromRecipe } = recipe ?? { description: '' };
  const config: RunConfig = {
    data,
    model: 'seed',
    epochs: d.epochs,
    batch: d.batch,
    lr: d.lr,
    lrSchedule: d.lrSchedule,
    ...fromRecipe,
    seed: 0,
    split: 'rows',
    trainRows: given.synthetic?.trainRows ?? defaultTrainRows({ synthetic, limit: given.limit }),
    skipBadRows: false,
    backend: 'auto',
    ...(synthetic ? { synthetic: { count: SYNTHETIC_DEFAULTS.train + SYNTHETIC_DEFAULTS.validation, trainRows: SYNTHETIC_DEFAULTS.train, seed: SYNTHETIC_DEFAULTS.seed } } : {}),
  };
  return { ...config, ...given };
}
