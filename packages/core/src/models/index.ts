import type * as tf from '@tensorflow/tfjs';
import { FerError } from '../errors.js';
import { seedCnn } from './seed.js';
import { simpleCnn } from './simple.js';
import { tinyCnn } from './tiny.js';
import { vggCnn } from './vgg.js';

export interface ModelOptions {
  /** Initialisation seed. */
  seed?: number;
  /** Scales every layer's width (tests thin a model this way to run it on the pure-JS backend). */
  width?: number;
  /** Dropout rate where a model has dropout (vgg: before the logits, default 0.3). */
  dropout?: number;
}

/**
 * Every model fer can build, by the name `--model` takes. A new model is a file in this folder and one
 * entry here; training, the data-parallel workers, `fer summary` and the CLI's choices all read this list.
 */
export const MODELS = {
  seed: { build: seedCnn, description: "the report's CNN (4 conv blocks, 538,759 parameters)" },
  simple: { build: simpleCnn, description: "the report's 3-layer CNN [64, 128, 512] for saliency maps" },
  vgg: { build: vggCnn, description: 'VGG-style: 4 stages of two 3x3 conv + BatchNorm + ReLU [32, 64, 128, 256], global average pool, dropout (1,174,439 parameters)' },
  tiny: { build: tinyCnn, description: 'a two-conv CNN of a few hundred parameters, for tests and smoke runs' },
} satisfies Record<string, { build: (options?: ModelOptions) => tf.Sequential; description: string }>;

export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODELS, name);
}

export function buildModel(name: string, options: ModelOptions = {}): tf.Sequential {
  if (!isModelName(name)) throw new FerError(`unknown model "${name}"`, { hint: `choose one of: ${MODEL_NAMES.join(', ')}` });
  return MODELS[name].build(options);
}

export { InputConv2D, isConv2DLayer } from './layers.js';
export { seedCnn } from './seed.js';
export { simpleCnn } from './simple.js';
export { tinyCnn } from './tiny.js';
export { VGG_CHANNELS, vggCnn, type VggOptions } from './vgg.js';
export { formatSummary, summarizeModel, type LayerRow, type ModelSummary } from './summary.js';
