import {
  FerError,
  type FaceDataset,
  type RunConfig,
  type RunMember,
  describeViews,
  ensembleInputs,
  hasLabels,
  loadDataset,
  loadRunEnsemble,
  readRunJson,
  runTestData,
  runValidationData,
  selectUsage,
  evaluationDir,
} from '@fer/core';
import { evaluateToDir } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, choiceFlag, intFlag, parseFlags, runDirFlag, userPath } from '../args.js';

const USAGE = `usage: fer evaluate --run DIR [--run DIR2 ...] [--data FILE] [--usage PublicTest|PrivateTest] [flags]

Accuracy, per-class precision, recall and F1, the confusion matrix (counts and row-normalised) as
heatmaps, and the most confused pairs in words. Writes DIR/evaluate/ (PNG + SVG + JSON).
Without --data it evaluates on the run's own validation split, rebuilt from run.json.
With several --run it evaluates their ensemble: the average of the runs' class probabilities.

  --run DIR           a run directory from \`fer train\`; repeat to average several runs (same input and
                      classes; without --data the first run's validation split is used)
  --data PATH         labelled faces: Kaggle fer2013.csv, NTU train.csv or an image folder (.gz is fine)
  --usage NAME        only rows of this Usage (PublicTest or PrivateTest) of a Kaggle CSV
  --test-part         the run's held-out test part (fer train --test-rows N) instead of its validation
                      split: faces nothing was trained or chosen on
  --limit N           only the first N rows of --data
  --tta               test-time augmentation: average each face's prediction with its mirror image's;
                      for a run trained on crops (run.json config.augment.crop) the 10 crops: centre and
                      4 corners of the padded face, each mirrored, with that run's own padding
  --out DIR           where to write (default: in the first --run's DIR, evaluate, or evaluate-test with
                      --test-part; -ensemble-N added for N runs, -tta with --tta: DIR/evaluate is what
                      fer report shows, and only a plain evaluation of that one run writes it)
  --backend NAME      auto (default), node, wasm or cpu`;

/** --run DIR, once or more (required): each directory as the user meant it, named as the user typed it. */
export function runsFlag(values: string[] | undefined, example: string): { dir: string; name: string }[] {
  if (!values?.length) runDirFlag(undefined, example);
  return (values ?? []).map((r) => ({ dir: runDirFlag(r, example), name: r }));
}

/** The lines that say which runs are averaged and which test-time views each got (none for one run without --tta). */
export function ensembleLines(runs: readonly RunMember[], tta: boolean | undefined): string[] {
  const views = (r: RunMember) => `TTA ${describeViews({ tta, cropPad: r.cropPad })}${!tta && r.cropPad > 0 ? ` (trained on ${r.cropPad}-px crops: --tta averages 10 crops)` : ''}`;
  if (runs.length === 1) return tta || runs[0].cropPad > 0 ? [views(runs[0])] : [];
  return [`averaging ${runs.length} runs:`, ...runs.map((r) => `  ${r.name}: ${views(r)}${r.run ? '' : ' (no run.json)'}`)];
}

const SPLIT_FIELDS = ['data', 'split', 'trainRows', 'testRows', 'limit', 'skipBadRows', 'synthetic'] as const;
const sameSplit = (a: RunConfig, b: RunConfig) => SPLIT_FIELDS.every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'accuracy, per-class P/R/F1 and the confusion matrix with its analysis',
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      {
        run: { type: 'string', multiple: true },
        data: { type: 'string' },
        usage: { type: 'string' },
        limit: { type: 'string' },
        tta: { type: 'boolean' },
        'test-part': { type: 'boolean' },
        out: { type: 'string' },
        backend: { type: 'string' },
      },
      'evaluate',
    );
    const runDirs = runsFlag(v.run, 'fer evaluate --run runs/viz-seed');
    const usage = v.usage === undefined ? undefined : choiceFlag('usage', v.usage, ['PublicTest', 'PrivateTest', 'Training'] as const, 'PublicTest');
    const limit = v.limit === undefined ? undefined : intFlag('limit', v.limit, 0, 1);
    if (usage && !v.data) throw new FerError("--usage needs --data: the run's own validation split has no Usage column to choose from");
    if (v['test-part'] && v.data)
      throw new FerError("--test-part scores the run's own held-out rows: it takes no --data", { hint: 'drop --data, or drop --test-part to evaluate on --data' });
    const backend = await backendFlag(v.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);
    const runs = await loadRunEnsemble(runDirs);
    const runDir = runs[0].dir;
    for (const line of ensembleLines(runs, v.tta)) console.log(line);
    let data: FaceDataset;
    let description: string;
    if (v.data) {
      data = await loadDataset(userPath(v.data), { limit });
      if (usage) data = selectUsage(data, usage);
      description = `${data.source}${usage ? ` (${usage})` : ''}, ${data.size} faces`;
    } else {
      const config = (runs[0].run ?? (await readRunJson(runDir))).config;
      data = v['test-part'] ? await runTestData(config) : await runValidationData(config);
      description = `${v['test-part'] ? 'held-out test part' : 'validation split'} of ${runs.length > 1 ? `the first run, ${runs[0].name}` : 'the run'} (${data.source}, ${data.size} faces)`;
      for (const r of runs.slice(1))
        if (!r.run || !sameSplit(config, r.run.config))
          console.log(
            `note: ${r.name} ${r.run ? 'was trained on another data split' : 'has no run.json to say what it was trained on'}: its training faces may be among these, which flatters the average (give --data to evaluate on held-out faces)`,
          );
    }
    if (!hasLabels(data))
      throw new FerError(`${data.source} has faces without labels, so there is nothing to score them against`, {
        hint: 'evaluate on a labelled file (fer2013.csv, train.csv); for test.csv use `fer predict --submission`',
      });
    console.log(`data: ${description}`);
    const outDir = v.out ? userPath(v.out) : evaluationDir(runDir, { testPart: v['test-part'], runs: runs.length, tta: v.tta });
    const { models, cropPad } = ensembleInputs(runs);
    const r = await evaluateToDir(models, data, outDir, { tta: v.tta, cropPad, description });
    const rep = r.report;
    const how = [runs.length > 1 ? `average of ${runs.length} runs` : '', v.tta ? 'with TTA' : ''].filter(Boolean).join(', ');
    console.log(`\naccuracy ${(100 * rep.accuracy).toFixed(2)}%   loss ${r.loss.toFixed(4)}   macro F1 ${rep.macro.f1.toFixed(3)}${how ? `   (${how})` : ''}\n`);
    console.log(`${'class'.padEnd(9)} precision  recall     F1  faces`);
    for (const c of rep.classes)
      console.log(`${c.name.padEnd(9)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(6)} ${String(c.support).padStart(6)}`);
    console.log('');
    for (const l of rep.summary) console.log(`- ${l}`);
    console.log(`\nwrote ${outDir}/ (confusion_counts, confusion_normalized, class_metrics: .png .svg .json; evaluation.json)`);
    return 0;
  },
};
