import { FerError } from '../errors.js';

/**
 * Learning-rate schedules, as a function of training progress only (epoch and batch), so that a resumed
 * run sets exactly the rate the uninterrupted one did:
 * - constant: the report's;
 * - cosine: from the base rate to 0 over the run (settles BatchNorm's running statistics);
 * - warmup-cosine: linear warm-up from base/25 over `warmupEpochs`, then cosine to 0;
 * - onecycle: PyTorch's OneCycleLR defaults: from base/25 up to base over the first 30% (cosine), then
 *   down to base/25/1e4 (cosine);
 * - step: the base rate, a tenth of it from 50% of the epochs, a hundredth from 75% (MultiStepLR).
 */
export const LR_SCHEDULES = ['constant', 'cosine', 'warmup-cosine', 'onecycle', 'step'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface ScheduleOptions {
  schedule: LrSchedule;
  baseLr: number;
  epochs: number;
  batchesPerEpoch: number;
  /** warmup-cosine: epochs of linear warm-up (default 1, at most half the run). */
  warmupEpochs?: number;
}

const cosineBetween = (from: number, to: number, t: number) => to + (from - to) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));

/** The learning rate for batch `batch` (0-based) of epoch `epoch` (0-based). */
export function learningRateAt(o: ScheduleOptions, epoch: number, batch: number): number {
  const total = o.epochs * o.batchesPerEpoch;
  const step = epoch * o.batchesPerEpoch + batch;
  const p = step / total;
  switch (o.schedule) {
    case 'constant':
      return o.baseLr;
    case 'cosine':
      return o.baseLr * 0.5 * (1 + Math.cos(Math.PI * p));
    case 'warmup-cosine': {
      const warm = Math.min(total / 2, Math.round((o.warmupEpochs ?? 1) * o.batchesPerEpoch));
      if (step < warm) return o.baseLr / 25 + ((o.baseLr - o.baseLr / 25) * step) / warm;
      return cosineBetween(o.baseLr, 0, (step - warm) / Math.max(1, total - warm));
    }
    case 'onecycle': {
      const up = 0.3 * total;
      const start = o.baseLr / 25;
      if (step < up) return cosineBetween(start, o.baseLr, step / up);
      return cosineBetween(o.baseLr, start / 1e4, (step - up) / Math.max(1, total - up));
    }
    case 'step':
      return o.baseLr * (epoch >= Math.floor(0.75 * o.epochs) ? 0.01 : epoch >= Math.floor(0.5 * o.epochs) ? 0.1 : 1);
    default:
      throw new FerError(`unknown learning-rate schedule "${o.schedule as string}"`, { hint: `choose one of: ${LR_SCHEDULES.join(', ')}` });
  }
}
