import { writeFile } from 'node:fs/promises';
import { EMOTIONS, FerError, PIXELS_PER_IMAGE, describePredictions, loadDataset, loadFaceImage, loadRunEnsemble, predictFaces, submissionCsv } from '@fer/core';
import type { Command } from '../command.js';
import { backendFlag, intFlag, parseFlags, userPath } from '../args.js';
import { ensembleInputs, ensembleLines, runsFlag } from './evaluate.js';

const USAGE = `usage: fer predict --run DIR [--run DIR2 ...] face.jpg [more images ...] [--json]
       fer predict --run DIR [--run DIR2 ...] --data test.csv --submission out.csv

Classifies faces with a trained run, or with the average of several runs' class probabilities.
Images may be any format or size (JPEG, PNG, WebP, GIF, TIFF); they are turned into 48x48 grey as in training.

  --run DIR           a run directory from \`fer train\`; repeat to average several runs (same input and classes)
  --json              print JSON (one object per image with every class's probability)
  --top N             classes to print per image (default 3)
  --data PATH         a CSV or image folder to classify (e.g. NTU test.csv: id,feature)
  --submission FILE   write the NTU / Kaggle submission file (id,label) for --data
  --tta               test-time augmentation: average each face's prediction with its mirror image's;
                      for a run trained on crops (run.json config.augment.crop) the 10 crops: centre and
                      4 corners of the padded face, each mirrored, with that run's own padding
  --backend NAME      auto (default), node, wasm or cpu`;

export const predict: Command = {
  name: 'predict',
  summary: 'classify face images, or write an id,label submission for a test CSV',
  usage: USAGE,
  async execute(argv) {
    const { values: v, positionals } = await parseFlags(
      argv,
      {
        run: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        top: { type: 'string' },
        data: { type: 'string' },
        submission: { type: 'string' },
        tta: { type: 'boolean' },
        backend: { type: 'string' },
      },
      'predict',
      true,
    );
    const runDirs = runsFlag(v.run, 'fer predict --run runs/viz-seed face.jpg');
    if (!positionals.length && !v.data)
      throw new FerError('nothing to predict: give image files or --data FILE', { hint: 'e.g. fer predict --run runs/x face.jpg, or --data test.csv --submission out.csv' });
    if (v.submission && !v.data) throw new FerError('--submission needs --data (the test CSV to classify)');
    const top = intFlag('top', v.top, 3, 1, EMOTIONS.length);
    const backend = await backendFlag(v.backend);
    if (!v.json) console.log(`backend: ${backend.name} (${backend.reason})`);
    const runs = await loadRunEnsemble(runDirs);
    if (!v.json) for (const line of ensembleLines(runs, v.tta)) console.log(line);
    const { models, cropPad } = ensembleInputs(runs);
    const how = [runs.length > 1 ? `average of ${runs.length} runs` : '', v.tta ? 'with TTA' : ''].filter(Boolean).join(', ');

    if (v.data) {
      const data = await loadDataset(userPath(v.data));
      const probs = await predictFaces(models, data.pixels, { tta: v.tta, cropPad });
      if (v.submission) {
        const out = userPath(v.submission);
        await writeFile(out, submissionCsv(data.ids, probs));
        const counts = new Array<number>(EMOTIONS.length).fill(0);
        for (const p of describePredictions(probs)) counts[p.label]++;
        console.log(`wrote ${out}: ${data.size} rows (id,label)${how ? `, ${how}` : ''}`);
        console.log(`predicted classes: ${EMOTIONS.map((e, i) => `${e} ${counts[i]}`).join(', ')}`);
      } else {
        const preds = describePredictions(probs);
        if (v.json)
          console.log(
            JSON.stringify(
              preds.map((p, i) => ({
                id: data.ids?.[i] ?? i,
                label: p.label,
                emotion: p.emotion,
                probabilities: Object.fromEntries(p.ranked.map((r) => [r.emotion, r.probability])),
              })),
              null,
              2,
            ),
          );
        else
          for (const [i, p] of preds.entries())
            console.log(
              `${data.ids?.[i] ?? i}: ${p.ranked
                .slice(0, top)
                .map((r) => `${r.emotion} ${(100 * r.probability).toFixed(1)}%`)
                .join(', ')}`,
            );
      }
      return 0;
    }

    const files = positionals.map(userPath);
    const pixels = new Uint8Array(files.length * PIXELS_PER_IMAGE);
    for (let i = 0; i < files.length; i++) pixels.set(await loadFaceImage(files[i]), i * PIXELS_PER_IMAGE);
    const preds = describePredictions(await predictFaces(models, pixels, { tta: v.tta, cropPad }));
    if (v.json) {
      console.log(
        JSON.stringify(
          preds.map((p, i) => ({ file: positionals[i], label: p.label, emotion: p.emotion, probabilities: Object.fromEntries(p.ranked.map((r) => [r.emotion, r.probability])) })),
          null,
          2,
        ),
      );
    } else {
      const w = Math.max(...positionals.map((p) => p.length));
      for (const [i, p] of preds.entries())
        console.log(
          `${positionals[i].padEnd(w)}  ${p.ranked
            .slice(0, top)
            .map((r) => `${r.emotion} ${(100 * r.probability).toFixed(1)}%`)
            .join('  ')}`,
        );
    }
    return 0;
  },
};
