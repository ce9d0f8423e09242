import * as tf from '@tensorflow/tfjs';
import { convInfo, type ConvAttrs } from './Conv2D.js';
import { nativeConv2D } from '../native/native.js';
import { callStock } from './stock.js';
import type { TensorInfo, WasmBackend } from '../wasm.js';

/** FusedConv2D with a bias and no activation (what tf.layers.conv2d runs): Winograd or one-channel (native.ts) where they apply; the rest on XNNPACK. */
function fusedConv2D(args: {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: WasmBackend;
  attrs: ConvAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const linear = attrs.activation === undefined || attrs.activation === 'linear';
  const bias = inputs.bias;
  const info = convInfo(inputs.x, inputs.filter, attrs);
  const plain = linear && !inputs.preluActivationWeights && (!bias || (bias.shape.length === 1 && bias.shape[0] === info.outChannels));
  return (plain ? nativeConv2D(backend, inputs.x, inputs.filter, bias, info) : undefined) ?? callStock(tf.FusedConv2D, args as never);
}

export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: 'wasm',
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
};
