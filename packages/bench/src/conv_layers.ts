/**
 * Time per convolution pass of the seed CNN's four conv layers on wasm, fer's native kernels (Winograd,
 * one-channel) against XNNPACK, with the direct-convolution GFLOP/s each reaches (2 * multiply-adds of
 * the direct method / time, so a Winograd pass can exceed the machine's real rate).
 *   node --conditions=source --import tsx src/conv_layers.ts [batch]      (from packages/bench)
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, withFlags } from '@fer/core';

const N = Number(process.argv[2] ?? 32);
await selectBackend('wasm');
const layers = [
  { name: 'conv1 5x5 1->32 @48', h: 48, ci: 1, co: 32, k: 5 },
  { name: 'conv2 3x3 32->64 @24', h: 24, ci: 32, co: 64, k: 3 },
  { name: 'conv3 3x3 64->128 @12', h: 12, ci: 64, co: 128, k: 3 },
  { name: 'conv4 3x3 128->128 @6', h: 6, ci: 128, co: 128, k: 3 },
];

/** Median ms of `reps` calls after two warm-up calls. */
function median(f: () => void, reps = 15): number {
  f();
  f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[reps >> 1];
}

console.log(`conv passes of the seed CNN, wasm, batch ${N}: median ms (direct-method GFLOP/s)`);
console.log(`${'layer'.padEnd(24)}${'kernels'.padEnd(9)}${'forward'.padStart(18)}${'input grad'.padStart(18)}${'filter grad'.padStart(18)}`);
for (const L of layers) {
  const x = tf.randomNormal([N, L.h, L.h, L.ci]) as tf.Tensor4D;
  const w = tf.randomNormal([L.k, L.k, L.ci, L.co]) as tf.Tensor4D;
  const dy = tf.randomNormal([N, L.h, L.h, L.co]) as tf.Tensor4D;
  const flop = 2 * N * L.h * L.h * L.ci * L.co * L.k * L.k;
  const cell = (ms: number) => `${ms.toFixed(2)} (${(flop / ms / 1e6).toFixed(1)})`.padStart(18);
  for (const native of [false, true]) {
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [L.k, L.k, L.ci, L.co] };
    const [fwd, dx, dw] = withFlags({ winograd: native, oneChannelConv: native, nativeMatMul: native }, () => [
      median(() => tf.tidy(() => void tf.conv2d(x, w, 1, 'same').dataSync())),
      median(() => tf.tidy(() => void tf.conv2dTranspose(dy, w, [N, L.h, L.h, L.ci], 1, 'same').dataSync())),
      median(() => tf.tidy(() => void (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as tf.Tensor).dataSync())),
    ]);
    console.log(`${(native ? '' : L.name).padEnd(24)}${(native ? 'fer' : 'XNNPACK').padEnd(9)}${cell(fwd)}${cell(dx)}${cell(dw)}`);
  }
  tf.dispose([x, w, dy]);
}
console.log("XNNPACK rows: fer's native kernels off. XNNPACK has no filter gradient: there it is fer's earlier formulation on XNNPACK");
console.log('(a forward convolution; for one input channel a matrix product), as is the one-channel input gradient in both rows.');
