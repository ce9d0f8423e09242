import type * as tf from '@tensorflow/tfjs';
import type { FaceDataset } from '../data/dataset.js';
import { classificationReport, scorePredictions, type ClassificationReport, type Evaluation } from './metrics.js';
import { predictFaces, predictProbabilities, type LogitsFn } from './predict.js';

/** Loss, accuracy and confusion of a model (or any source of logits, such as the data-parallel workers) on labelled faces. */
export async function evaluateModel(source: tf.LayersModel | LogitsFn, data: FaceDataset, batchSize = 256): Promise<Evaluation> {
  return scorePredictions(await predictProbabilities(source, data, batchSize), data.labels);
}

/** Loss and the classification report (per-class P/R/F1, confusion, the analysis in words) of a model on labelled faces. */
export async function evaluateFaces(model: tf.LayersModel, data: FaceDataset, options: { tta?: boolean } = {}): Promise<{ loss: number; report: ClassificationReport }> {
  const probs = await predictFaces(model, data.pixels, { tta: options.tta });
  const { loss, confusion } = scorePredictions(probs, data.labels);
  return { loss, report: classificationReport(confusion) };
}
