import { DEFAULT_FLAGS, useFerKernels, withFlags, type Flags, type KernelTime, type ModelName } from '@fer/core';
import { measureLocal, profileBackend } from './measure.js';

export interface AblationRow {
  stage: string;
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  /** The training step's slowest kernels at this stage. */
  top: KernelTime[];
}

/**
 * fer's optimisations in the order they were made; each stage adds its kernel overrides (by kernel
 * name; a gradient as `<kernel>_grad`) and turns on its flags, on top of the stages before it. The last
 * stage but one came with vgg (BatchNorm and ReLU after every convolution); the last is off where the runtime
 * has no relaxed SIMD (it then measures the plain build again). Two of vgg's Winograd changes have
 * no switch and are in every stage that has Winograd: the mosaic for small images (6x6) and whole-batch
 * tile blocks for a 256 x 256 forward pass (core/src/backend/native/native.ts).
 */
export const OPTIMISATION_STAGES: { stage: string; kernels: string[]; flags?: Partial<Flags> }[] = [
  { stage: 'prototype: Conv2DBackpropFilter only', kernels: ['Conv2DBackpropFilter'] },
  { stage: '+ Conv2DBackpropInput as forward conv', kernels: ['Conv2DBackpropInput'] },
  { stage: '+ MaxPoolGrad, BatchMatMul, Sum, LeakyRelu/BN gradients', kernels: ['MaxPoolGrad', 'BatchMatMul', 'Sum', 'LeakyRelu_grad', 'FusedBatchNorm_grad'] },
  { stage: '+ first-layer gradients as matrix products', kernels: [], flags: { smallChannelGradMax: DEFAULT_FLAGS.smallChannelGradMax } },
  { stage: '+ Identity by reference', kernels: ['Identity'] },
  { stage: '+ own WebAssembly SIMD kernels, LeakyRelu, Mean, MaxPool', kernels: ['LeakyRelu', 'Mean', 'MaxPool'], flags: { simdKernels: true } },
  { stage: '+ Winograd F(4x4,3x3) for 3x3 convs, all three passes', kernels: ['Conv2D', 'FusedConv2D'], flags: { winograd: true } },
  { stage: '+ one-input-channel conv and its filter gradient in C', kernels: [], flags: { oneChannelConv: true } },
  { stage: '+ first conv layer unfused: no dL/dimages', kernels: [], flags: { unfusedInputConv: true } },
  { stage: '+ Mean gradient without a ones tensor', kernels: ['Mean_grad'] },
  { stage: '+ fused Adam', kernels: [], flags: { fusedAdam: true } },
  { stage: "+ dense layers on fer's matrix product", kernels: ['_FusedMatMul'], flags: { nativeMatMul: true } },
  { stage: '+ BatchNorm forward, ReLU/square gradients, Cast shared', kernels: ['FusedBatchNorm', 'Cast', 'Relu_grad', 'Square_grad'] },
  { stage: '+ relaxed SIMD: fused multiply-adds in the C kernels', kernels: [], flags: { relaxedSimd: true } },
];

/** Every optimisation that is a flag, off: the prototype's state. */
const ALL_OFF: Partial<Flags> = {
  smallChannelGradMax: 0,
  simdKernels: false,
  winograd: false,
  oneChannelConv: false,
  unfusedInputConv: false,
  fusedAdam: false,
  nativeMatMul: false,
  relaxedSimd: false,
};

/** Each stage measured in turn (wasm, one thread, a model: default seed), under the same machine load, with its top kernels. */
export async function measureAblation(batch: number, seconds: number, log: (l: string) => void, modelName: ModelName = 'seed'): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  const kernels = new Set<string>();
  let stageFlags: Partial<Flags> = { ...ALL_OFF };
  try {
    for (const s of OPTIMISATION_STAGES) {
      for (const k of s.kernels) kernels.add(k);
      stageFlags = { ...stageFlags, ...s.flags };
      useFerKernels((k) => kernels.has(k));
      log(`ablation: ${s.stage}...`);
      const { r, p } = await withFlags(stageFlags, async () => ({ r: await measureLocal('wasm', batch, seconds, modelName), p: await profileBackend('wasm', batch, modelName) }));
      rows.push({ stage: s.stage, batch, trainImagesPerSec: r.trainImagesPerSec, inferImagesPerSec: r.inferImagesPerSec, top: p.train.slice(0, 6) });
    }
  } finally {
    useFerKernels(() => true);
  }
  return rows;
}
