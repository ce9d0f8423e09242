import path from 'node:path';
import { FerError, type FaceDataset, hasLabels, loadDataset, loadRunModel, readRunJson, runValidationData, selectUsage } from '@fer/core';
import { evaluateToDir } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, choiceFlag, intFlag, parseFlags, runDirFlag, userPath } from '../args.js';

const USAGE = `usage: fer evaluate --run DIR [--data FILE] [--usage PublicTest|PrivateTest] [flags]

Accuracy, per-class precision, recall and F1, the confusion matrix (counts and row-normalised) as
heatmaps, and the most confused pairs in words. Writes DIR/evaluate/ (PNG + SVG + JSON).
Without --data it evaluates on the run's own validation split, rebuilt from run.json.

  --run DIR           a run directory from \`fer train\`
  --data PATH         labelled faces: Kaggle fer2013.csv, NTU train.csv or an image folder (.gz is fine)
  --usage NAME        only rows of this Usage (PublicTest or PrivateTest) of a Kaggle CSV
  --limit N           only the first N rows of --data
  --tta               average each face's prediction with its mirror image's
  --out DIR           where to write (default DIR/evaluate)
  --backend NAME      auto (default), node, wasm or cpu`;

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'accuracy, per-class P/R/F1 and the confusion matrix with its analysis',
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      {
        run: { type: 'string' },
        data: { type: 'string' },
        usage: { type: 'string' },
        limit: { type: 'string' },
        tta: { type: 'boolean' },
        out: { type: 'string' },
        backend: { type: 'string' },
      },
      'evaluate',
    );
    const runDir = runDirFlag(v.run, 'fer evaluate --run runs/viz-seed');
    const usage = v.usage === undefined ? undefined : choiceFlag('usage', v.usage, ['PublicTest', 'PrivateTest', 'Training'] as const, 'PublicTest');
    const limit = v.limit === undefined ? undefined : intFlag('limit', v.limit, 0, 1);
    const backend = await backendFlag(v.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);
    const model = await loadRunModel(runDir);
    let data: FaceDataset;
    let description: string;
    if (v.data) {
      data = await loadDataset(userPath(v.data), { limit });
      if (usage) data = selectUsage(data, usage);
      description = `${data.source}${usage ? ` (${usage})` : ''}, ${data.size} faces`;
    } else {
      if (usage) throw new FerError("--usage needs --data: the run's own validation split has no Usage column to choose from");
      data = await runValidationData((await readRunJson(runDir)).config);
      description = `validation split of the run (${data.source}, ${data.size} faces)`;
    }
    if (!hasLabels(data))
      throw new FerError(`${data.source} has faces without labels, so there is nothing to score them against`, {
        hint: 'evaluate on a labelled file (fer2013.csv, train.csv); for test.csv use `fer predict --submission`',
      });
    console.log(`data: ${description}`);
    const outDir = v.out ? userPath(v.out) : path.join(runDir, 'evaluate');
    const r = await evaluateToDir(model, data, outDir, { tta: v.tta, description });
    const rep = r.report;
    console.log(`\naccuracy ${(100 * rep.accuracy).toFixed(2)}%   loss ${r.loss.toFixed(4)}   macro F1 ${rep.macro.f1.toFixed(3)}${v.tta ? '   (with flip TTA)' : ''}\n`);
    console.log(`${'class'.padEnd(9)} precision  recall     F1  faces`);
    for (const c of rep.classes)
      console.log(`${c.name.padEnd(9)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(6)} ${String(c.support).padStart(6)}`);
    console.log('');
    for (const l of rep.summary) console.log(`- ${l}`);
    console.log(`\nwrote ${outDir}/ (confusion_counts, confusion_normalized, class_metrics: .png .svg .json; evaluation.json)`);
    return 0;
  },
};
