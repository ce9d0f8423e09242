import { PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from '../data/dataset.js';

/** The union of a synthetic face set's eye, brow and mouth masks, N x 2304, 1 inside. */
export function featureMask(masks: NonNullable<FaceDataset['masks']>): Uint8Array {
  const out = new Uint8Array(masks.eyes.length);
  for (let i = 0; i < out.length; i++) out[i] = masks.eyes[i] | masks.brows[i] | masks.mouth[i];
  return out;
}

/**
 * How much more of a saliency map's mass lies in the feature regions than their area would give:
 * (mass inside / total mass) / (area inside / total area), per face, averaged over faces. A map
 * spread evenly, or at random, scores 1; one that lies only on the features scores 1 / area share.
 * Faces whose map is all zero are left out (they say nothing either way).
 */
export function maskConcentration(maps: Float32Array, mask: Uint8Array): number {
  const n = maps.length / PIXELS_PER_IMAGE;
  let sum = 0;
  let counted = 0;
  for (let f = 0; f < n; f++) {
    let inside = 0;
    let total = 0;
    let area = 0;
    for (let i = f * PIXELS_PER_IMAGE; i < (f + 1) * PIXELS_PER_IMAGE; i++) {
      const v = Math.abs(maps[i]);
      total += v;
      if (mask[i]) {
        inside += v;
        area++;
      }
    }
    if (total <= 0 || area === 0) continue;
    sum += inside / total / (area / PIXELS_PER_IMAGE);
    counted++;
  }
  return counted ? sum / counted : Number.NaN;
}
