import * as tf from '@tensorflow/tfjs';
import { flags } from '../../flags.js';
import { geometryOf, smallChannelsBackpropFilter } from './small_channels.js';
import { nativeFilterGrad } from '../native/native.js';
import { callKernel, dispose, transposeInfo, type TensorInfo, type WasmBackend } from '../wasm.js';

/**
 * dL/dW of a 2-D convolution, which tfjs's wasm backend lacks, written as one forward convolution
 * so that it runs on XNNPACK: dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh*d, ow*s+kw*d, ci] dy[n,oh,ow,co]
 * is the convolution of x (batch and channel swapped: [ci,H,W,n]) with dy ([oh,ow,n,co]) dilated by
 * the stride s and strided by the dilation d, cropped to the filter size.
 */
function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackend; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: number | [number, number];
    pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  const native = nativeFilterGrad(backend, x, dy, info);
  if (native) return native;
  if (info.inChannels <= flags.smallChannelGradMax) return smallChannelsBackpropFilter(backend, x, dy, geometryOf(info));
  const xT = transposeInfo(backend, x, [3, 1, 2, 0]); // [ci, H, W, n]
  const dyT = transposeInfo(backend, dy, [1, 2, 0, 3]); // [oh, ow, n, co]
  const g = callKernel(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined,
    },
  ); // [ci, >=kh, >=kw, co]
  let cropped = g;
  if (g.shape[1] !== info.filterHeight || g.shape[2] !== info.filterWidth) {
    cropped = callKernel('Slice', backend, { x: g }, { begin: [0, 0, 0, 0], size: [g.shape[0], info.filterHeight, info.filterWidth, g.shape[3]] });
    dispose(backend, g);
  }
  const out = transposeInfo(backend, cropped, [1, 2, 0, 3]); // [kh, kw, ci, co]
  dispose(backend, xT, dyT, cropped);
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
