import { FerError } from '../errors.js';
import type { RunConfig } from '../rundir/run-json.js';

/** What a recipe chooses: everything about how to train, nothing about which data. Flags override any of it. */
export type Recipe = { description: string } & Pick<RunConfig, 'model' | 'epochs' | 'batch' | 'lr' | 'lrSchedule'> &
  Pick<RunConfig, 'warmupEpochs' | 'optimizer' | 'momentum' | 'nesterov' | 'weightDecay' | 'labelSmoothing' | 'dropout' | 'augment'>;

/**
 * fer train's recipes by name. `report` is the homework's (the default with --data); `strong` is chosen
 * for accuracy on unseen faces within two hours on a 2-core CPU: the vgg model, random crops, flips and
 * small rotations, SGD with Nesterov momentum and weight decay, a warm-up then cosine to zero, label
 * smoothing (docs/training.md describes it).
 */
export const RECIPES = {
  report: {
    description: "the report's: seed CNN, Adam 1e-4, 30 epochs, batch 64, no augmentation",
    model: 'seed',
    epochs: 30,
    batch: 64,
    lr: 1e-4,
    lrSchedule: 'constant',
    optimizer: 'adam',
  },
  strong: {
    description: 'vgg, pad-crop 4 + flip + rotate 10° + scale 10%, SGD Nesterov 0.9 with weight decay 5e-4, lr 0.01 with 1 warm-up epoch then cosine, label smoothing 0.1',
    model: 'vgg',
    epochs: 30,
    batch: 64,
    lr: 0.01,
    lrSchedule: 'warmup-cosine',
    warmupEpochs: 1,
    optimizer: 'sgd',
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
    labelSmoothing: 0.1,
    dropout: 0,
    augment: { crop: 4, flip: true, rotate: 10, scale: 0.1 },
  },
} satisfies Record<string, Recipe>;

export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

export function getRecipe(name: string): Recipe {
  if (!Object.hasOwn(RECIPES, name))
    throw new FerError(`unknown recipe "${name}"`, { hint: `choose one of: ${RECIPE_NAMES.map((r) => `${r} (${RECIPES[r as RecipeName].description})`).join('; ')}` });
  return RECIPES[name as RecipeName];
}
