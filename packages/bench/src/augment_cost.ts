/**
 * What training-time augmentation costs the training thread: the median milliseconds of one
 * `augmentBatch` call on a batch of 64 synthetic faces, for three recipes. Prints numbers, judges nothing.
 *
 *   node --conditions=source --import tsx src/augment_cost.ts     (from packages/bench)
 */
import { type AugmentOptions, augmentBatch, describeAugmentation, PIXELS_PER_IMAGE, syntheticFaces } from '@fer/core';

const BATCH = 64;
const WARMUP = 50;
const ITERATIONS = 400;

const RECIPES: AugmentOptions[] = [
  { crop: 4, flip: true },
  { crop: 4, flip: true, rotate: 10, scale: 0.1 },
  { crop: 4, flip: true, rotate: 10, scale: 0.1, erase: 0.25, brightness: 0.2, contrast: 0.2 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const faces = syntheticFaces({ count: BATCH, seed: 1 }).pixels;
const batch = new Uint8Array(BATCH * PIXELS_PER_IMAGE);
const rows = Uint32Array.from({ length: BATCH }, (_, i) => i);

console.log(`augmentBatch, ${BATCH} faces of 48x48, median of ${ITERATIONS} calls (node ${process.version})`);
for (const options of RECIPES) {
  const times: number[] = [];
  for (let it = 0; it < WARMUP + ITERATIONS; it++) {
    batch.set(faces);
    // A new epoch each call: fresh draws, as in training.
    const t0 = performance.now();
    augmentBatch(batch, rows, it, 1, options);
    const dt = performance.now() - t0;
    if (it >= WARMUP) times.push(dt);
  }
  const ms = median(times);
  console.log(`${ms.toFixed(3).padStart(8)} ms  (${((ms * 1000) / BATCH).toFixed(2).padStart(6)} µs/face)  ${describeAugmentation(options)}`);
}
