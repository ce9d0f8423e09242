/**
 * The whole photo pipeline (detect, crop, classify) against the plain 48x48 path on the same faces.
 *
 * Faces of a run's held-out test part (or its validation part) are enlarged to random sizes and pasted on
 * larger canvases at known boxes, twelve to a canvas; `facesInPhoto` finds and crops them as `fer predict`
 * does on a photo, and the run's model classifies the crops. The same faces, given to the model as the
 * 48x48 originals, are the baseline. A face the detector misses counts as wrong for the pipeline.
 * --alone gives each face an image of its own instead, the enlarged face and nothing else (a photo of one face
 * cropped as FER2013 crops faces), where SSD alone finds few faces and the retry (detectFaces' `retry`) the rest.
 *
 *   node --conditions=source --import tsx packages/bench/src/pipeline.ts --run runs/X [--faces 600] [--detector ssd|tiny|blaze|ssd+blaze] [--min-score 0.5,0.3,0.2] [--mirror off,on] [--retry on|off|off,on] [--alone] [--part test|validation] [--missed OUT.png] [--labels OUT.json] [--crops S:DY[:noalign],...] [--tta]
 *
 * --crops also crops the last row's faces at these ratios (FACE_CROP's scale and shift; noalign: eyes not levelled)
 * and scores them; the last row's boxes are also measured against the pasted squares (FER2013's own framing).
 * --labels writes each row's label of every face (-1: missed) with the truth and the plain label, as JSON.
 * --missed writes the 48x48 faces the last row's detector setting missed as one PNG, 12 to a row, each with its
 * plain prediction right (green border) or wrong (red).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  cropFaces,
  describePredictions,
  facesInPhoto,
  FACE_DETECTORS,
  IMAGE_SIZE,
  loadRunEnsemble,
  mulberry32,
  PIXELS_PER_IMAGE,
  predictFaces,
  readRunJson,
  runTestData,
  runValidationData,
  selectBackend,
  type FaceBox,
  type FaceDetectorName,
  type RawImage,
} from '@fer/core';
import { parseScores } from './demo-files.js';

const CANVAS = { width: 960, height: 720 };
const CELL = 240; // 4 x 3 cells, one face each

interface Placed {
  index: number;
  box: FaceBox;
}

/** A grey canvas with a soft gradient and noise, as RGB bytes. */
function background(rand: () => number): Uint8Array {
  const { width, height } = CANVAS;
  const out = new Uint8Array(width * height * 3);
  const a = 60 + 120 * rand();
  const b = 60 + 120 * rand();
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = a + ((b - a) * (x + y)) / (width + height) + 24 * (rand() - 0.5);
      out.fill(Math.max(0, Math.min(255, Math.round(v))), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  return out;
}

/** A 48x48 face enlarged to size x size, bilinear (pixel centres aligned). */
function enlarge(face: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const s = IMAGE_SIZE / size;
  const at = (x: number, y: number) => face[Math.min(IMAGE_SIZE - 1, Math.max(0, y)) * IMAGE_SIZE + Math.min(IMAGE_SIZE - 1, Math.max(0, x))];
  for (let j = 0; j < size; j++) {
    const sy = (j + 0.5) * s - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let i = 0; i < size; i++) {
      const sx = (i + 0.5) * s - 0.5;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[j * size + i] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return out;
}

/** The missed faces (label -1), enlarged 3x, 12 to a row, framed green where the plain path is right, red where not. */
async function writeMissed(file: string, pixels: Uint8Array, labels: number[], plainRight: (k: number) => boolean): Promise<void> {
  const missed = labels.flatMap((l, k) => (l < 0 ? [k] : []));
  const cell = 3 * IMAGE_SIZE + 8;
  const cols = 12;
  const rows = Math.max(1, Math.ceil(missed.length / cols));
  const out = Buffer.alloc(cols * cell * rows * cell * 3, 255);
  for (const [m, k] of missed.entries()) {
    const ox = (m % cols) * cell;
    const oy = Math.floor(m / cols) * cell;
    const frame = plainRight(k) ? [40, 160, 40] : [200, 40, 40];
    for (let y = 1; y < cell - 1; y++)
      for (let x = 1; x < cell - 1; x++) {
        const fy = y - 4;
        const fx = x - 4;
        const inside = fx >= 0 && fy >= 0 && fx < 3 * IMAGE_SIZE && fy < 3 * IMAGE_SIZE;
        const v = inside ? pixels[k * PIXELS_PER_IMAGE + Math.floor(fy / 3) * IMAGE_SIZE + Math.floor(fx / 3)] : -1;
        const o = ((oy + y) * cols * cell + ox + x) * 3;
        if (v >= 0) out.fill(v, o, o + 3);
        else out.set(frame, o);
      }
  }
  await sharp(out, { raw: { width: cols * cell, height: rows * cell, channels: 3 } })
    .png()
    .toFile(file);
  console.error(`wrote ${file}: ${missed.length} missed faces`);
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      run: { type: 'string' },
      faces: { type: 'string', default: '600' },
      detector: { type: 'string', default: 'ssd' },
      part: { type: 'string', default: 'test' },
      min: { type: 'string', default: '96' },
      max: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      'min-score': { type: 'string', default: '0.5' },
      mirror: { type: 'string', default: 'off' },
      retry: { type: 'string', default: 'on' },
      alone: { type: 'boolean', default: false },
      missed: { type: 'string' },
      labels: { type: 'string' },
      crops: { type: 'string' },
      tta: { type: 'boolean', default: false },
    },
  });
  if (!v.run)
    throw new Error(
      'usage: pipeline.ts --run DIR [--faces N] [--detector ssd|tiny|blaze|ssd+blaze] [--part test|validation] [--min-score LIST] [--mirror off,on] [--retry on|off|off,on] [--alone] [--min PX] [--max PX] [--missed OUT.png] [--labels OUT.json] [--crops S:DY[:noalign],...] [--tta]',
    );
  const detector = v.detector as FaceDetectorName;
  if (!FACE_DETECTORS.includes(detector)) throw new Error(`--detector: one of ${FACE_DETECTORS.join(', ')}`);
  const backend = await selectBackend('auto');
  const run = await readRunJson(v.run);
  const data = v.part === 'validation' ? await runValidationData(run.config) : await runTestData(run.config);
  const n = Math.min(Number(v.faces), data.size);
  const [minSide, maxSide] = [Number(v.min), Number(v.max)];
  const members = await loadRunEnsemble([{ dir: v.run }]);
  const models = members.map((m) => m.model);
  // --tta: both paths average the same views (the 10 crops for a run trained on pad-and-crop).
  const predictOptions = { tta: v.tta, cropPad: members.map((m) => m.cropPad) };
  const rand = mulberry32(Number(v.seed));
  // An even spread over the part, in its order (the first n would be one stretch of the file).
  const picks = Array.from({ length: n }, (_, i) => Math.floor((i * data.size) / n));
  const plainPixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  for (const [k, i] of picks.entries()) plainPixels.set(data.pixels.subarray(i * PIXELS_PER_IMAGE, (i + 1) * PIXELS_PER_IMAGE), k * PIXELS_PER_IMAGE);
  const plain = describePredictions(await predictFaces(models, plainPixels, predictOptions));

  // Each row: a minimum score, with or without the mirrored pass (--mirror off,on scores both).
  const onOff = (flag: string) =>
    String(v[flag as 'mirror'])
      .split(',')
      .map((m) => {
        if (m !== 'on' && m !== 'off') throw new Error(`--${flag}: off, on or off,on (got "${m}")`);
        return m === 'on';
      });
  const mirrors = onOff('mirror');
  const retries = onOff('retry');
  const scores = parseScores(String(v['min-score'])).flatMap((minScore) => mirrors.flatMap((mirror) => retries.map((retry) => ({ minScore, mirror, retry }))));
  const rowName = ({ minScore, mirror, retry }: { minScore: number; mirror: boolean; retry: boolean }) =>
    `${minScore}${mirror ? ' +mirror' : ''}${retry || detector !== 'ssd' ? '' : ' -retry'}`;
  // Other crop ratios to score on the last row's detections: SCALE:SHIFT[:noalign], comma-separated.
  const cropSettings = (v.crops ? String(v.crops).split(',') : []).map((c) => {
    const [scale, shiftY, align] = c.split(':');
    if (!(Number(scale) > 0) || !Number.isFinite(Number(shiftY)) || (align !== undefined && align !== 'noalign'))
      throw new Error(`--crops: SCALE:SHIFT[:noalign],... (got "${c}")`);
    return { name: c, scale: Number(scale), shiftY: Number(shiftY), align: align !== 'noalign', label: new Array<number>(n).fill(-1) };
  });
  // The FER2013 framing measured against the last row's boxes: pasted side / the box's mean side, and the pasted
  // square's centre from the box's, in box widths and heights.
  const framing = { scale: [] as number[], dx: [] as number[], dy: [] as number[] };
  // Per score: the pipeline's label of each face (-1: missed), box areas, detections matching no face, seconds.
  const results = scores.map(() => ({ label: new Array<number>(n).fill(-1), areas: [] as number[], extra: 0, seconds: 0 }));
  const perCanvas = v.alone ? 1 : (CANVAS.width / CELL) * (CANVAS.height / CELL);
  for (let start = 0; start < n; start += perCanvas) {
    let image: RawImage;
    const placed: Placed[] = [];
    if (v.alone) {
      // the face alone, enlarged: the whole image is the FER2013 crop
      const side = Math.round(minSide + (maxSide - minSide) * rand());
      image = { data: enlarge(plainPixels.subarray(start * PIXELS_PER_IMAGE, (start + 1) * PIXELS_PER_IMAGE), side), width: side, height: side, channels: 1 };
      placed.push({ index: start, box: { x: 0, y: 0, width: side, height: side } });
    } else {
      // twelve faces on a canvas, each in its cell at a random place and size
      const canvas = background(rand);
      for (let k = start; k < Math.min(n, start + perCanvas); k++) {
        const cell = k - start;
        const side = Math.round(minSide + (maxSide - minSide) * rand());
        const cx = (cell % (CANVAS.width / CELL)) * CELL;
        const cy = Math.floor(cell / (CANVAS.width / CELL)) * CELL;
        const x = cx + Math.floor((CELL - side) * rand());
        const y = cy + Math.floor((CELL - side) * rand());
        const face = enlarge(plainPixels.subarray(k * PIXELS_PER_IMAGE, (k + 1) * PIXELS_PER_IMAGE), side);
        for (let j = 0; j < side; j++)
          for (let i = 0; i < side; i++) canvas.fill(face[j * side + i], ((y + j) * CANVAS.width + x + i) * 3, ((y + j) * CANVAS.width + x + i) * 3 + 3);
        placed.push({ index: k, box: { x, y, width: side, height: side } });
      }
      image = { data: canvas, width: CANVAS.width, height: CANVAS.height, channels: 3 };
    }
    // The same canvas for every row, so that the rows differ only by the row's settings.
    for (const [s, { minScore, mirror, retry }] of scores.entries()) {
      const r = results[s];
      const t0 = performance.now();
      const found = await facesInPhoto(image, { detector, minScore, mirror, retry });
      const preds = found.faces.length ? describePredictions(await predictFaces(models, found.pixels, predictOptions)) : [];
      r.seconds += (performance.now() - t0) / 1000;
      // Each detected face belongs to the pasted face its centre lies in (the detector's box is the face inside
      // the FER2013 crop, smaller than the pasted square).
      const taken = new Set<number>();
      // the pasted face each detection was matched to (undefined: extra), for --crops
      const owner: (number | undefined)[] = [];
      for (const [f, face] of found.faces.entries()) {
        const c = { x: face.box.x + face.box.width / 2, y: face.box.y + face.box.height / 2 };
        const p = placed.find((p) => c.x >= p.box.x && c.x < p.box.x + p.box.width && c.y >= p.box.y && c.y < p.box.y + p.box.height);
        if (!p || taken.has(p.index)) {
          r.extra++;
          continue;
        }
        taken.add(p.index);
        owner[f] = p.index;
        r.label[p.index] = preds[f].label;
        r.areas.push((face.box.width * face.box.height) / (p.box.width * p.box.height));
        if (s === scores.length - 1) {
          const b = face.box;
          framing.scale.push(p.box.width / ((b.width + b.height) / 2));
          framing.dx.push((p.box.x + p.box.width / 2 - (b.x + b.width / 2)) / b.width);
          framing.dy.push((p.box.y + p.box.height / 2 - (b.y + b.height / 2)) / b.height);
        }
      }
      if (s === scores.length - 1 && found.faces.length)
        for (const c of cropSettings) {
          const px = await cropFaces(image, found.faces, { detector, scale: c.scale, shiftY: c.shiftY, align: c.align });
          const cp = describePredictions(await predictFaces(models, px, predictOptions));
          for (const [f, k] of owner.entries()) if (k !== undefined) c.label[k] = cp[f].label;
        }
    }
    process.stderr.write(`\r${Math.min(n, start + perCanvas)}/${n} faces`);
  }
  process.stderr.write('\n');
  if (framing.scale.length) {
    const q = (a: number[], f: number) => [...a].sort((x, y) => x - y)[Math.floor(f * (a.length - 1))].toFixed(3);
    const line = (name: string, a: number[]) => `${name} median ${q(a, 0.5)} (quartiles ${q(a, 0.25)}-${q(a, 0.75)})`;
    console.log(
      `FER2013 framing against the last row's ${framing.scale.length} boxes: ${line('side / box mean side', framing.scale)}; ${line('centre dx / box width', framing.dx)}; ${line('centre dy / box height', framing.dy)}`,
    );
  }
  // Of the faces a row's labels found: how many, how many it names right, and the plain path on the same faces.
  const tally = (label: number[]) => {
    const t = { found: 0, right: 0, plainRight: 0, agree: 0 };
    for (const [k, i] of picks.entries()) {
      if (label[k] < 0) continue;
      t.found++;
      if (label[k] === data.labels[i]) t.right++;
      if (plain[k].label === data.labels[i]) t.plainRight++;
      if (label[k] === plain[k].label) t.agree++;
    }
    return t;
  };
  for (const c of cropSettings) {
    const t = tally(c.label);
    console.log(
      `crop ${c.name.padEnd(16)} on the last row's ${t.found} found: ${((100 * t.right) / t.found).toFixed(1)}% vs plain ${((100 * t.plainRight) / t.found).toFixed(1)}%`,
    );
  }
  if (v.labels) {
    // Per row, the pipeline's label of each face (-1: missed), with the truth and the plain path's label: rows of
    // runs with the same --part, --faces, --min, --max and --seed are on the same canvases and can be compared.
    const rows = scores.map(({ minScore, mirror, retry }, s) => ({ detector, minScore, mirror, retry, label: results[s].label }));
    const out = { part: v.part, truth: picks.map((i) => data.labels[i]), plain: plain.map((p) => p.label), rows };
    await writeFile(String(v.labels), JSON.stringify(out));
  }
  if (v.missed) await writeMissed(String(v.missed), plainPixels, results[results.length - 1].label, (k) => plain[k].label === data.labels[picks[k]]);
  // of nothing found: a dash, not NaN%
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
  let plainRight = 0;
  for (const [k, i] of picks.entries()) if (plain[k].label === data.labels[i]) plainRight++;
  console.log(
    `backend ${backend.name}; run ${v.run}; ${n} faces of its ${v.part} part, ${v.alone ? `each alone, enlarged to ${minSide}-${maxSide} px` : `pasted at ${minSide}-${maxSide} px on ${CANVAS.width}x${CANVAS.height} canvases`}, detector ${detector}${v.tta ? ', both paths with --tta' : ''}`,
  );
  console.log(`plain 48x48: ${pct(plainRight, n)} right`);
  console.log('min score     found            extra  box area  pipeline (misses wrong)  vs plain  on the found: pipeline vs plain  same label  ms/face');
  for (const [s, row] of scores.entries()) {
    const r = results[s];
    const { found: foundCount, right: pipeRight, plainRight: plainRightFound, agree } = tally(r.label);
    const meanArea = r.areas.reduce((a, b) => a + b, 0) / Math.max(1, r.areas.length);
    const loss = ((100 * (plainRight - pipeRight)) / n).toFixed(1);
    console.log(
      [
        rowName(row).padEnd(12),
        `${foundCount}/${n} (${pct(foundCount, n)})`.padEnd(16),
        String(r.extra).padEnd(5),
        meanArea.toFixed(2).padEnd(8),
        pct(pipeRight, n).padEnd(23),
        `-${loss}`.replace('--', '+').padEnd(8),
        `${pct(pipeRight, foundCount)} vs ${pct(plainRightFound, foundCount)}`.padEnd(31),
        pct(agree, foundCount).padEnd(10),
        ((1000 * r.seconds) / n).toFixed(0),
      ].join('  '),
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
