import * as tf from '@tensorflow/tfjs';
import { callStock } from './stock.js';
import type { TensorInfo, WasmBackend } from '../wasm.js';
import { nativeConv2D } from '../native/native.js';

export type ConvAttrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
};

export function convInfo(x: TensorInfo, filter: TensorInfo, a: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    false,
    a.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast',
  );
}

/** Conv2D: 3x3 stride-1 convolutions by Winograd and one-channel ones directly (native.ts), the rest on XNNPACK (tfjs's kernel). */
function conv2D(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: WasmBackend; attrs: ConvAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  return nativeConv2D(backend, inputs.x, inputs.filter, undefined, convInfo(inputs.x, inputs.filter, attrs)) ?? callStock(tf.Conv2D, args as never);
}

export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2D as unknown as tf.KernelFunc,
};
