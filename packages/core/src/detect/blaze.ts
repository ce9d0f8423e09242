/**
 * BlazeFace (MediaPipe's face detector, the 256x256 full-range model that @vladmandic/human ships as
 * models/blazeface.json): its anchors and how its raw output becomes boxes. Pure (no tfjs), and tested
 * on its own; detectFaces runs the model.
 *
 * The model's four outputs, smallest first: scores of the 16x16 grid (2 anchors a cell: 512), scores of the
 * 8x8 grid (6 a cell: 384), then the two grids' 16 regressors (box centre dx dy, width, height, and six
 * key points: the eyes, the nose tip, the mouth, the ears), in input pixels from the anchor's centre.
 */
import { type FaceBox, type Point, boxIoU } from './geometry.js';

/** BlazeFace's input side, in pixels. */
export const BLAZE_INPUT = 256;

/** The anchors' centres in input pixels, in the model's order: the 16x16 grid (2 each), then the 8x8 (6 each). */
export function blazeAnchors(input = BLAZE_INPUT): Point[] {
  const out: Point[] = [];
  for (const [stride, perCell] of [
    [input / 16, 2],
    [input / 8, 6],
  ]) {
    const cells = Math.ceil(input / stride);
    for (let gy = 0; gy < cells; gy++) for (let gx = 0; gx < cells; gx++) for (let k = 0; k < perCell; k++) out.push({ x: stride * (gx + 0.5), y: stride * (gy + 0.5) });
  }
  return out;
}

const ANCHORS = blazeAnchors();

export interface BlazeDetection {
  /** In the input's pixels (0..BLAZE_INPUT). */
  box: FaceBox;
  score: number;
  /** The face's right eye (on the left of the picture) and its left eye, in the input's pixels. */
  eyes: [Point, Point];
}

/**
 * The detections in BlazeFace's outputs: `scores` (896 logits) and `regressors` (896 x 16), both in the
 * anchors' order; those scoring at least `minScore` (after the sigmoid), overlapping ones (IoU over `iou`) kept
 * once, the highest score first.
 */
export function decodeBlaze(scores: ArrayLike<number>, regressors: ArrayLike<number>, minScore: number, iou = 0.3): BlazeDetection[] {
  if (scores.length !== ANCHORS.length || regressors.length !== ANCHORS.length * 16)
    throw new Error(`BlazeFace's outputs: expected ${ANCHORS.length} scores and ${ANCHORS.length * 16} regressors, got ${scores.length} and ${regressors.length}`);
  const all: BlazeDetection[] = [];
  for (let i = 0; i < ANCHORS.length; i++) {
    // MediaPipe clips the logit to +-100 before the sigmoid
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
    if (score < minScore) continue;
    const r = i * 16;
    const a = ANCHORS[i];
    const cx = a.x + regressors[r];
    const cy = a.y + regressors[r + 1];
    const w = regressors[r + 2];
    const h = regressors[r + 3];
    if (!(w > 0 && h > 0)) continue;
    all.push({
      box: { x: cx - w / 2, y: cy - h / 2, width: w, height: h },
      score,
      eyes: [
        { x: a.x + regressors[r + 4], y: a.y + regressors[r + 5] },
        { x: a.x + regressors[r + 6], y: a.y + regressors[r + 7] },
      ],
    });
  }
  all.sort((p, q) => q.score - p.score);
  const kept: BlazeDetection[] = [];
  for (const d of all) if (!kept.some((k) => boxIoU(k.box, d.box) > iou)) kept.push(d);
  return kept;
}
