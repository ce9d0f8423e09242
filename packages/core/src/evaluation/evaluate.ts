import type * as tf from '@tensorflow/tfjs';
import type { FaceDataset } from '../data/dataset.js';
import { classificationReport, scorePredictions, type ClassificationReport, type Evaluation } from './metrics.js';
import { predictFaces, predictProbabilities, type LogitsFn, type PredictOptions } from './predict.js';

/** Loss, accuracy and confusion of a model (or any source of logits, such as the data-parallel workers) on labelled faces. */
export async function evaluateModel(source: tf.LayersModel | LogitsFn, data: FaceDataset, batchSize = 256): Promise<Evaluation> {
  return scorePredictions(await predictProbabilities(source, data, batchSize), data.labels);
}

/**
 * Loss and the classification report (per-class P/R/F1, confusion, the analysis in words) of a model, or of
 * several models averaged, on labelled faces; `tta` and `cropPad` as predictFaces takes them.
 */
export async function evaluateFaces(
  models: tf.LayersModel | readonly tf.LayersModel[],
  data: FaceDataset,
  options: Pick<PredictOptions, 'tta' | 'cropPad' | 'batchSize'> = {},
): Promise<{ loss: number; report: ClassificationReport }> {
  const probs = await predictFaces(models, data.pixels, { tta: options.tta, cropPad: options.cropPad, batchSize: options.batchSize });
  const { loss, confusion } = scorePredictions(probs, data.labels);
  return { loss, report: classificationReport(confusion) };
}
