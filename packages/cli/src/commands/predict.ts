import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CROPPED_FACE_MAX_SIDE,
  EMOTIONS,
  DEFAULT_MIN_SCORE,
  FACE_DETECTORS,
  FerError,
  NO_FACE_EXIT_CODE,
  type FacePrediction,
  describePredictions,
  ensembleInputs,
  loadDataset,
  loadRunEnsemble,
  predictFaces,
  predictPhotos,
  submissionCsv,
} from '@fer/core';
import { writeAnnotatedPhoto } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, choiceFlag, intFlag, numberFlag, parseFlags, userPath } from '../args.js';
import { ensembleLines, runsFlag } from './evaluate.js';

const USAGE = `usage: fer predict --run DIR [--run DIR2 ...] photo.jpg [more images ...] [--json] [--annotate OUT.png]
       fer predict --run DIR [--run DIR2 ...] --data test.csv --submission out.csv

Finds the faces in each photo and names each one's expression, with a trained run or the average of several
runs' class probabilities. Images may be any format or size (JPEG, PNG, WebP, GIF, TIFF).

A photo larger than ${CROPPED_FACE_MAX_SIDE}x${CROPPED_FACE_MAX_SIDE} is searched for faces (face-api's SSD MobileNet or Tiny Face
Detector, offline, weights from the @vladmandic/face-api package); each face is cropped as FER2013 crops
faces (square, brows to chin, eyes levelled by its landmarks, 48x48 grey) and classified. A smaller image
(a 48x48 FER2013 face, say) is taken as one cropped face and turned into 48x48 grey as in training.
An image with no face is reported, and fer predict exits with code ${NO_FACE_EXIT_CODE} after the other images.

  --run DIR           a run directory from \`fer train\`; repeat to average several runs (same input and classes)
  --json              print JSON: one object per face (file, face, box {x,y,width,height} in the photo's
                      pixels, detector score, label, emotion, every class's probability); box and score
                      are null for an image taken as one cropped face
  --top N             classes to print per face (default 3)
  --annotate OUT.png  draw each face's box, expression and probability on the photo, as PNG; with several
                      images OUT is a folder and each photo is written there as <name>.png
  --no-detect         take every image as one cropped face, whatever its size (as before face detection)
  --detect            search even images of ${CROPPED_FACE_MAX_SIDE} px and less for faces
  --detector NAME     ssd (default: more accurate), tiny (faster), blaze (BlazeFace: finds faces cut close,
                      as FER2013's are, but also face-like things in cluttered photos) or ssd+blaze (ssd's
                      faces, and BlazeFace's where it is sure (0.7) and SSD boxed the place too, at any score)
  --min-score X       the lowest detector score taken as a face (default ${DEFAULT_MIN_SCORE.ssd} for ssd and ssd+blaze,
                      ${DEFAULT_MIN_SCORE.tiny} for tiny, ${DEFAULT_MIN_SCORE.blaze} for blaze)
  --mirror            also search each photo mirrored left to right and keep the faces either pass finds:
                      finds more of the faces cut close or turned away (on FER2013 faces pasted on canvases,
                      96.2% against 94.0%) and takes twice the detection time
  --no-retry          with ssd, say "no face" as soon as SSD finds none. By default a photo where SSD finds
                      no face is searched once more, whole, in a grey margin, as by ssd+blaze --mirror: SSD
                      misses almost every face that fills the photo (a face cropped close, as FER2013's
                      are); this takes longer only on photos where SSD finds nothing
  --min-face N        the smallest face to look for, in pixels of the photo (default 64): large photos
                      are then also searched tile by tile; 0 searches the whole photo only (faster)
  --data PATH         a CSV or image folder to classify (e.g. NTU test.csv: id,feature)
  --submission FILE   write the NTU / Kaggle submission file (id,label) for --data
  --tta               test-time augmentation: average each face's prediction with its mirror image's;
                      for a run trained on crops (run.json config.augment.crop) the 10 crops: centre and
                      4 corners of the padded face, each mirrored, with that run's own padding
  --backend NAME      auto (default), node, wasm or cpu

exit codes: 0 done, 1 a usage or input error (an unreadable image names its file), ${NO_FACE_EXIT_CODE} an image with no face`;

export const predict: Command = {
  name: 'predict',
  summary: 'find the faces in photos and name their expressions, or write an id,label submission for a test CSV',
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
        annotate: { type: 'string' },
        detect: { type: 'boolean' },
        'no-detect': { type: 'boolean' },
        detector: { type: 'string' },
        'min-score': { type: 'string' },
        'min-face': { type: 'string' },
        mirror: { type: 'boolean' },
        'no-retry': { type: 'boolean' },
      },
      'predict',
      true,
    );
    const runDirs = runsFlag(v.run, 'fer predict --run runs/viz-seed face.jpg');
    if (!positionals.length && !v.data)
      throw new FerError('nothing to predict: give image files or --data FILE', { hint: 'e.g. fer predict --run runs/x face.jpg, or --data test.csv --submission out.csv' });
    if (v.submission && !v.data) throw new FerError('--submission needs --data (the test CSV to classify)');
    const top = intFlag('top', v.top, 3, 1, EMOTIONS.length);
    if (v.detect && v['no-detect']) throw new FerError('--detect and --no-detect contradict each other');
    for (const flag of ['mirror', 'no-retry'] as const)
      if (v[flag] && (v.data || v['no-detect'])) throw new FerError(`--${flag} is for searching photos for faces: it needs images and face detection (not --data or --no-detect)`);
    if (v.annotate && (v.data || v['no-detect'])) throw new FerError('--annotate draws the faces found in photos: it needs images and face detection (not --data or --no-detect)');
    const detector = choiceFlag('detector', v.detector, FACE_DETECTORS, 'ssd');
    const detectOptions = {
      detector,
      minScore: numberFlag('min-score', v['min-score'], DEFAULT_MIN_SCORE[detector], 0, 0.99),
      minFaceSize: intFlag('min-face', v['min-face'], 64, 0),
      mirror: v.mirror,
      retry: !v['no-retry'],
    };
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

    // Each image: one cropped face (small, or --no-detect), or a photo searched for faces.
    const files = positionals.map((name) => ({ name, file: userPath(name) }));
    const detect = v['no-detect'] ? false : v.detect ? true : undefined;
    const { images, rows } = await predictPhotos(models, files, { tta: v.tta, cropPad, detect, ...detectOptions });
    const ranked = (p: FacePrediction, sep: string) =>
      p.ranked
        .slice(0, top)
        .map((r) => `${r.emotion} ${(100 * r.probability).toFixed(1)}%`)
        .join(sep);
    const noFace = images.filter((im) => im.noFace);

    if (v.json) {
      console.log(JSON.stringify(rows, null, 2));
    } else {
      const w = Math.max(...positionals.map((p) => p.length));
      for (const im of images) {
        if (!im.faces) console.log(`${im.name.padEnd(w)}  ${ranked(im.predictions[0], '  ')}`);
        else if (im.faces.length) {
          console.log(`${im.name}: ${im.faces.length} face${im.faces.length > 1 ? 's' : ''}`);
          for (const [k, f] of im.faces.entries()) {
            const b = f.box;
            console.log(
              `  face ${k + 1} at ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)} (score ${f.score.toFixed(2)}): ${ranked(im.predictions[k], ', ')}`,
            );
          }
        }
      }
    }
    for (const im of noFace)
      console.error(`${im.name}: no face found (${im.width}x${im.height}); pass --no-detect to classify the whole image as one cropped face, or lower --min-score / --min-face`);

    if (v.annotate) {
      const out = userPath(v.annotate);
      for (const [i, im] of images.entries()) {
        if (!im.faces) continue;
        const target = positionals.length > 1 ? path.join(out, `${path.parse(im.name).name}.png`) : out;
        const labels = (im.faces ?? []).map((f, k) => {
          const p = im.predictions[k];
          return { box: f.box, text: `${p.emotion} ${Math.round(100 * p.ranked[0].probability)}%` };
        });
        await writeAnnotatedPhoto(files[i].file, im.width ?? 0, im.height ?? 0, labels, target);
        if (!v.json) console.log(`wrote ${target}`);
      }
    }
    if (noFace.length) return NO_FACE_EXIT_CODE;
    return 0;
  },
};
