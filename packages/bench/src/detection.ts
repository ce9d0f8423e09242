/**
 * Face detection recall and box IoU, by face size, on faces pasted on larger canvases at known boxes.
 *
 * The faces are those of face-api's demo photos (in its npm package, never FER2013 data): SSD MobileNet finds
 * them on the original photos (score >= 0.8, at least 100 px), which gives each its box. Each is cut out with a
 * margin of 0.6 of its size, shrunk so that its box is S pixels (mean side) and pasted, up to six to a
 * 1280x960 canvas of random grey with noise (fewer when larger, so that no cut-out covers another), each at a
 * random place in its own cell; `detectFaces` (as `fer predict` runs it) then looks for
 * them. A face counts as found when a detection overlaps its known box with IoU >= 0.5; detections matching no
 * face are counted too.
 *
 *   node --conditions=source --import tsx packages/bench/src/detection.ts [--sizes 48,64,96,128,192,256] [--detector ssd|tiny] [--min-score 0.5]
 */
import { parseArgs } from 'node:util';
import { FACE_DETECTORS, type FaceBox, type FaceDetectorName, boxIoU, detectFaces, loadPhoto, mulberry32, selectBackend } from '@fer/core';
import sharp from 'sharp';
import { demoPhotoFiles } from './demo-files.js';

const CANVAS = { width: 1280, height: 960 };
/** A cut-out face with its margin is about 2.2 times the face's box across (a bit more down): cells that fit it. */
const grid = (size: number) => ({
  cols: Math.max(1, Math.min(3, Math.floor(CANVAS.width / (2.4 * size)))),
  rows: Math.max(1, Math.min(2, Math.floor(CANVAS.height / (2.6 * size)))),
});

interface Reference {
  file: string;
  size: { width: number; height: number };
  box: FaceBox;
}

async function referenceFaces(): Promise<Reference[]> {
  const out: Reference[] = [];
  for (const file of await demoPhotoFiles()) {
    const photo = await loadPhoto(file);
    const faces = await detectFaces(photo, { minScore: 0.8 });
    for (const face of faces) if ((face.box.width + face.box.height) / 2 >= 100) out.push({ file, size: { width: photo.width, height: photo.height }, box: face.box });
  }
  return out;
}

const roundBox = (b: FaceBox) => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      sizes: { type: 'string', default: '48,64,96,128,192,256' },
      detector: { type: 'string', default: 'ssd' },
      'min-score': { type: 'string', default: '0.5' },
      seed: { type: 'string', default: '1' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const detector = v.detector as FaceDetectorName;
  if (!FACE_DETECTORS.includes(detector)) throw new Error(`--detector: one of ${FACE_DETECTORS.join(', ')}`);
  const sizes = v.sizes.split(',').map(Number);
  const backend = await selectBackend('auto');
  const refs = await referenceFaces();
  const rand = mulberry32(Number(v.seed));
  console.log(
    `backend ${backend.name}; detector ${detector}, min score ${v['min-score']}; ${refs.length} faces of face-api's demo photos at each size, up to 6 to a ${CANVAS.width}x${CANVAS.height} canvas`,
  );
  console.log('face size  found          mean IoU (found)  extra detections  s per canvas');
  let allFound = 0;
  let allFaces = 0;
  for (const size of sizes) {
    const { cols, rows } = grid(size);
    const cellW = CANVAS.width / cols;
    const cellH = CANVAS.height / rows;
    let found = 0;
    let extra = 0;
    const ious: number[] = [];
    let seconds = 0;
    let canvases = 0;
    for (let start = 0; start < refs.length; start += cols * rows) {
      const composites: sharp.OverlayOptions[] = [];
      const truth: FaceBox[] = [];
      for (const [cell, ref] of refs.slice(start, start + cols * rows).entries()) {
        const b = ref.box;
        const side = (b.width + b.height) / 2;
        const m = Math.round(0.6 * side);
        const meta = ref.size;
        const left = Math.max(0, Math.round(b.x - m));
        const top = Math.max(0, Math.round(b.y - m));
        const region = { left, top, width: Math.min(meta.width - left, Math.round(b.width + 2 * m)), height: Math.min(meta.height - top, Math.round(b.height + 2 * m)) };
        const k = size / side;
        const w = Math.max(1, Math.round(region.width * k));
        const h = Math.max(1, Math.round(region.height * k));
        const x = Math.floor((cell % cols) * cellW + Math.max(0, cellW - w) * rand());
        const y = Math.floor(Math.floor(cell / cols) * cellH + Math.max(0, cellH - h) * rand());
        composites.push({ input: await sharp(ref.file).extract(region).resize(w, h, { fit: 'fill' }).toBuffer(), left: x, top: y });
        truth.push({
          x: x + (b.x - left) * (w / region.width),
          y: y + (b.y - top) * (h / region.height),
          width: b.width * (w / region.width),
          height: b.height * (h / region.height),
        });
      }
      const grey = Math.round(60 + 140 * rand());
      const noise = Buffer.alloc(CANVAS.width * CANVAS.height * 3);
      for (let i = 0; i < noise.length; i++) noise[i] = Math.max(0, Math.min(255, Math.round(grey + 30 * (rand() - 0.5))));
      const { data } = await sharp(noise, { raw: { width: CANVAS.width, height: CANVAS.height, channels: 3 } })
        .composite(composites)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const t0 = performance.now();
      const faces = await detectFaces({ data: new Uint8Array(data), width: CANVAS.width, height: CANVAS.height, channels: 3 }, { detector, minScore: Number(v['min-score']) });
      seconds += (performance.now() - t0) / 1000;
      canvases++;
      const used = new Set<number>();
      for (const t of truth) {
        let best = -1;
        let bestIoU = 0;
        for (const [i, f] of faces.entries()) {
          const iou = boxIoU(t, f.box);
          if (!used.has(i) && iou > bestIoU) [best, bestIoU] = [i, iou];
        }
        if (bestIoU >= 0.5) {
          used.add(best);
          found++;
          ious.push(bestIoU);
        } else if (v.verbose) {
          const near = faces.map((f) => `${JSON.stringify(roundBox(f.box))} ${f.score.toFixed(2)} IoU ${boxIoU(t, f.box).toFixed(2)}`).join('; ');
          console.log(`  missed ${JSON.stringify(roundBox(t))} at ${size} px; detections: ${near || 'none'}`);
        }
      }
      extra += faces.length - used.size;
    }
    allFound += size >= 64 ? found : 0;
    allFaces += size >= 64 ? refs.length : 0;
    const mean = ious.reduce((a, b) => a + b, 0) / Math.max(1, ious.length);
    console.log(
      `${`${size} px`.padEnd(10)} ${`${found}/${refs.length} (${((100 * found) / refs.length).toFixed(1)}%)`.padEnd(14)} ${mean.toFixed(3).padEnd(17)} ${String(extra).padEnd(17)} ${(seconds / canvases).toFixed(2)}`,
    );
  }
  if (allFaces) console.log(`faces of 64 px or more: ${allFound}/${allFaces} found (${((100 * allFound) / allFaces).toFixed(1)}%)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
