import path from 'node:path';
import { evaluateFaces, type ClassificationReport, type FaceDataset } from '@fer/core';
import type * as tf from '@tensorflow/tfjs';
import { classMetricsSpec, confusionSpec } from './confusion.js';
import { vegaLiteToSvg, writeJsonFile, writeSvgAndPng } from './render.js';

export interface EvaluationResult {
  report: ClassificationReport;
  loss: number;
  /** What was evaluated, in words. */
  data: string;
  files: string[];
}

/**
 * Evaluates `model` (or several models, averaged) on labelled faces (core's evaluateFaces, with `tta` and
 * `cropPad` as predictFaces takes them) and draws and writes to `outDir`: evaluation.json (all numbers and the
 * analysis in words), confusion_counts / confusion_normalized / class_metrics as SVG + PNG, and
 * a JSON of the numbers beside every picture.
 */
export async function evaluateToDir(
  models: tf.LayersModel | readonly tf.LayersModel[],
  data: FaceDataset,
  outDir: string,
  options: { tta?: boolean; cropPad?: number | readonly number[]; description?: string } = {},
): Promise<EvaluationResult> {
  const { loss, report } = await evaluateFaces(models, data, { tta: options.tta, cropPad: options.cropPad });
  const description = options.description ?? data.source;
  const files: string[] = [];
  const picture = async (name: string, svg: string, json: unknown) => {
    const p = await writeSvgAndPng(path.join(outDir, name), svg);
    files.push(p.png, p.svg, await writeJsonFile(path.join(outDir, `${name}.json`), json));
  };
  await picture('confusion_counts', await vegaLiteToSvg(confusionSpec(report, false)), { classes: report.classes.map((c) => c.name), confusion: report.confusion });
  await picture('confusion_normalized', await vegaLiteToSvg(confusionSpec(report, true)), {
    classes: report.classes.map((c) => c.name),
    confusionNormalized: report.confusionNormalized,
  });
  await picture('class_metrics', await vegaLiteToSvg(classMetricsSpec(report)), { classes: report.classes, macro: report.macro, weighted: report.weighted });
  files.unshift(
    await writeJsonFile(path.join(outDir, 'evaluation.json'), {
      data: description,
      tta: Boolean(options.tta),
      ...(options.cropPad === undefined ? {} : { cropPad: options.cropPad }),
      ...(Array.isArray(models) ? { models: models.length } : {}),
      loss,
      ...report,
    }),
  );
  return { report, loss, data: description, files };
}
