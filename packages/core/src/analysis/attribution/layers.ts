import type * as tf from '@tensorflow/tfjs';
import { FerError } from '../../errors.js';
import { isConv2DLayer } from '../../models/index.js';

/** The model's Conv2D layers, first to last. */
export function convLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => isConv2DLayer(l));
}

/**
 * The layer whose output stands for conv layer `conv`'s feature maps: the conv itself, or the
 * activation right after it (what Keras-style models with a fused activation expose, and what
 * Grad-CAM and filter responses should see).
 */
export function featureLayer(model: tf.LayersModel, conv: tf.layers.Layer, afterActivation: boolean): tf.layers.Layer {
  const i = model.layers.indexOf(conv);
  const next = model.layers[i + 1];
  if (afterActivation && next && ['ReLU', 'LeakyReLU', 'Activation', 'ELU'].includes(next.getClassName())) return next;
  return conv;
}

/** Picks a conv layer by 1-based number or by name; the last one by default. */
export function pickConvLayer(model: tf.LayersModel, which?: number | string): tf.layers.Layer {
  const convs = convLayers(model);
  if (!convs.length) throw new FerError(`model ${model.name} has no Conv2D layer`);
  if (which === undefined) return convs[convs.length - 1];
  if (typeof which === 'number') {
    if (!Number.isInteger(which) || which < 1 || which > convs.length) {
      throw new FerError(`the model has ${convs.length} conv layers, so there is no conv layer ${which}`, {
        hint: `pick 1 to ${convs.length} (${convs.map((c) => c.name).join(', ')})`,
      });
    }
    return convs[which - 1];
  }
  const byName = convs.find((c) => c.name === which);
  if (!byName) throw new FerError(`the model has no conv layer named ${which}`, { hint: `its conv layers: ${convs.map((c) => c.name).join(', ')}` });
  return byName;
}

/**
 * Splits a chain of layers (a Sequential model, or a functional one that is a chain) at `layer`:
 * head(x) gives that layer's output, tail(h) the logits from it. Grad-CAM and activation
 * maximisation need the tensor in between.
 */
export function splitModelAt(model: tf.LayersModel, layer: tf.layers.Layer): { head: (x: tf.Tensor) => tf.Tensor; tail: (h: tf.Tensor) => tf.Tensor } {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const i = layers.indexOf(layer);
  if (i < 0) throw new FerError(`layer ${layer.name} is not in model ${model.name}`);
  for (let k = 1; k < layers.length; k++) {
    const inbound = (layers[k] as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    const prev = inbound[0]?.inboundLayers;
    if (prev && (prev.length !== 1 || prev[0] !== layers[k - 1])) {
      throw new FerError(`model ${model.name} is not a simple chain of layers at ${layers[k].name}`, {
        hint: 'Grad-CAM and filter views need a Sequential-style model, as `fer train` makes',
      });
    }
  }
  const run = (from: number, to: number) => (x: tf.Tensor) => {
    let h = x;
    for (let k = from; k < to; k++) h = layers[k].apply(h, { training: false }) as tf.Tensor;
    return h;
  };
  return { head: run(0, i + 1), tail: run(i + 1, layers.length) };
}
