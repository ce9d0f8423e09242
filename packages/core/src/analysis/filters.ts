import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { mulberry32 } from '../random.js';
import { FerError } from '../errors.js';
import { featureLayer, pickConvLayer, splitModelAt } from './attribution/layers.js';

export interface MaximizeOptions {
  /** Gradient-ascent steps. */
  steps?: number;
  /** Step size in input units (0..1) per step, on the RMS-normalised gradient. */
  learningRate?: number;
  /** Random shift of up to this many pixels each step, so the image cannot exploit single pixels. */
  jitter?: number;
  /** Weight of the total-variation descent step against the response ascent step (both unit RMS): smooth patterns over pixel noise. */
  tvWeight?: number;
  /** Every this many steps, blur the image a little (Yosinski et al. 2015's regulariser). */
  blurEvery?: number;
  seed?: number;
}

export interface FilterImages {
  layer: string;
  filters: number[];
  /** One 48x48 input per filter, 0..1. */
  images: Float32Array;
  /** Mean activation each image reaches (higher: a pattern the filter likes more). */
  activations: number[];
}

/** 3x3 binomial blur of N x 48 x 48 x 1, edges clamped. */
function blur3(x: tf.Tensor4D): tf.Tensor4D {
  const k = tf.tensor4d(
    [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16),
    [3, 3, 1, 1],
  );
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  return tf.conv2d(padded as tf.Tensor4D, k, 1, 'valid');
}

function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const S = IMAGE_SIZE;
  const ry = ((dy % S) + S) % S;
  const rx = ((dx % S) + S) % S;
  let y = x;
  if (ry) y = tf.concat([y.slice([0, S - ry, 0, 0], [-1, ry, -1, -1]), y.slice([0, 0, 0, 0], [-1, S - ry, -1, -1])], 1);
  if (rx) y = tf.concat([y.slice([0, 0, S - rx, 0], [-1, -1, rx, -1]), y.slice([0, 0, 0, 0], [-1, -1, S - rx, -1])], 2);
  return y;
}

/**
 * Activation maximisation: for each filter, the 48x48 grey input that makes the filter's mean response
 * (pre-activation, so the gradient never dies at ReLU) as large as possible, found by gradient ascent
 * from faint noise around mid grey, with jitter, a total-variation penalty and periodic blur so the
 * result is a pattern a face could contain rather than adversarial pixel noise. All filters ascend
 * together, one image each, in one batch.
 */
export async function maximizeFilters(model: tf.LayersModel, layer: number | string | undefined, filters: number[], options: MaximizeOptions = {}): Promise<FilterImages> {
  const conv = pickConvLayer(model, layer);
  const channels = (conv.outputShape as number[])[3];
  for (const f of filters) if (!Number.isInteger(f) || f < 0 || f >= channels) throw new FerError(`${conv.name} has ${channels} filters, so there is no filter ${f}`);
  const { steps = 120, learningRate = 0.05, jitter = 2, tvWeight = 0.3, blurEvery = 4, seed = 0 } = options;
  const { head } = splitModelAt(model, conv);
  const n = filters.length;
  const rnd = mulberry32(seed);
  const init = new Float32Array(n * PIXELS_PER_IMAGE);
  for (let i = 0; i < init.length; i++) init[i] = 0.5 + 0.05 * (rnd() - 0.5);
  const selector = tf.tidy(() => tf.oneHot(tf.tensor1d(filters, 'int32'), channels).reshape([n, 1, 1, channels]));
  let img = tf.tensor4d(init, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
  const response = (x: tf.Tensor) => tf.sum(tf.mean(tf.sum(tf.mul(head(x), selector), 3), [1, 2]));
  const totalVariation = (x: tf.Tensor) => {
    const dx = tf.sub(x.slice([0, 0, 1, 0], [-1, -1, IMAGE_SIZE - 1, -1]), x.slice([0, 0, 0, 0], [-1, -1, IMAGE_SIZE - 1, -1]));
    const dy = tf.sub(x.slice([0, 1, 0, 0], [-1, IMAGE_SIZE - 1, -1, -1]), x.slice([0, 0, 0, 0], [-1, IMAGE_SIZE - 1, -1, -1]));
    return tf.add(tf.sum(tf.abs(dx)), tf.sum(tf.abs(dy)));
  };
  const responseGrad = tf.grad(response);
  const tvGrad = tf.grad(totalVariation);
  // Each gradient is RMS-normalised per image before they are mixed, so every filter ascends at the
  // same pace whatever its scale and tvWeight means the same for a trained and an untrained model.
  const unit = (g: tf.Tensor) => tf.div(g, tf.sqrt(tf.add(tf.mean(tf.square(g), [1, 2, 3], true), 1e-12)));
  for (let s = 0; s < steps; s++) {
    const dy = Math.round((rnd() * 2 - 1) * jitter);
    const dx = Math.round((rnd() * 2 - 1) * jitter);
    const next = tf.tidy(() => {
      const shifted = roll(img, dy, dx);
      const step = tf.sub(unit(responseGrad(shifted)), tf.mul(unit(tvGrad(shifted)), tvWeight));
      let x = roll(tf.add(shifted, tf.mul(step, learningRate)) as tf.Tensor4D, -dy, -dx);
      if (blurEvery > 0 && s % blurEvery === blurEvery - 1 && s < steps - 1) x = blur3(x);
      return tf.clipByValue(x, 0, 1) as tf.Tensor4D;
    });
    img.dispose();
    img = next;
    if ((s & 7) === 7) await new Promise((r) => setImmediate(r));
  }
  const act = tf.tidy(() => tf.mean(tf.sum(tf.mul(head(img), selector), 3), [1, 2]));
  const result = { layer: conv.name, filters, images: (await img.data()) as Float32Array, activations: Array.from(await act.data()) };
  img.dispose();
  act.dispose();
  selector.dispose();
  return result;
}

export interface FilterResponses {
  layer: string;
  filters: number[];
  /** Feature-map side (e.g. 6 for the seed CNN's conv4). */
  size: number;
  /** filters.length maps of size x size, after the layer's activation. */
  maps: Float32Array;
}

/** The responses of chosen filters of a conv layer (after its activation) to one face: the report's picture. */
export async function filterResponses(model: tf.LayersModel, layer: number | string | undefined, face: Float32Array, filters: number[]): Promise<FilterResponses> {
  const conv = pickConvLayer(model, layer);
  const { head } = splitModelAt(model, featureLayer(model, conv, true));
  const out = tf.tidy(() => {
    const h = head(tf.tensor4d(face, [1, IMAGE_SIZE, IMAGE_SIZE, 1])) as tf.Tensor4D;
    return tf.transpose(tf.gather(h.squeeze([0]), filters, 2), [2, 0, 1]);
  });
  const size = out.shape[1] as number;
  const maps = (await out.data()) as Float32Array;
  out.dispose();
  return { layer: conv.name, filters, size, maps };
}

/** `count` distinct filter indices of `channels`, chosen by `seed`: the report's "10 random filters". */
export function randomFilters(channels: number, count: number, seed = 0): number[] {
  const rnd = mulberry32(seed + 7);
  const all = Array.from({ length: channels }, (_, i) => i);
  for (let i = channels - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, Math.min(count, channels)).sort((a, b) => a - b);
}
