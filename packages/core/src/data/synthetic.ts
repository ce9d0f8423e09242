import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from './dataset.js';
import { gaussian, hash2, mulberry32 } from '../random.js';

/**
 * What each class does with brows, eyes and mouth, in face units (the face spans about [-1, 1]).
 * browInner/browOuter: height of the brow's inner and outer end (negative is up).
 * eyeOpen: eye height relative to neutral. mouthCurve: corner lift (positive is a smile).
 * mouthOpen: 0 for a closed line, else the height of an open mouth. mouthWidth: half width.
 */
const EXPRESSIONS = [
  /* angry    */ { browInner: -0.27, browOuter: -0.45, eyeOpen: 0.55, mouthCurve: -0.04, mouthOpen: 0, mouthWidth: 0.2, sneer: 0 },
  /* disgust  */ { browInner: -0.3, browOuter: -0.34, eyeOpen: 0.45, mouthCurve: 0, mouthOpen: 0, mouthWidth: 0.24, sneer: 0.13 },
  /* fear     */ { browInner: -0.52, browOuter: -0.42, eyeOpen: 1.5, mouthCurve: -0.02, mouthOpen: 0.07, mouthWidth: 0.24, sneer: 0 },
  /* happy    */ { browInner: -0.4, browOuter: -0.4, eyeOpen: 0.65, mouthCurve: 0.14, mouthOpen: 0, mouthWidth: 0.32, sneer: 0 },
  /* sad      */ { browInner: -0.5, browOuter: -0.32, eyeOpen: 0.8, mouthCurve: -0.12, mouthOpen: 0, mouthWidth: 0.25, sneer: 0 },
  /* surprise */ { browInner: -0.56, browOuter: -0.54, eyeOpen: 1.6, mouthCurve: 0, mouthOpen: 0.17, mouthWidth: 0.11, sneer: 0 },
  /* neutral  */ { browInner: -0.38, browOuter: -0.38, eyeOpen: 1, mouthCurve: 0, mouthOpen: 0, mouthWidth: 0.25, sneer: 0 },
];

export interface SyntheticOptions {
  count: number;
  seed?: number;
  /** 0 gives clean frontal faces; 1 (default) the full variation of pose, size, light and noise. */
  difficulty?: number;
}

interface Stroke {
  pts: number[]; // x0,y0,x1,y1,... in face units
  half: number; // half thickness
}

function segDist(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1)));
  const ex = px - ax - t * dx;
  const ey = py - ay - t * dy;
  return Math.sqrt(ex * ex + ey * ey);
}

function strokeDist(s: Stroke, x: number, y: number): number {
  let d = Infinity;
  for (let k = 0; k + 3 < s.pts.length; k += 2) d = Math.min(d, segDist(x, y, s.pts[k], s.pts[k + 1], s.pts[k + 2], s.pts[k + 3]));
  return d - s.half;
}

/** Signed distance (roughly, in face units) to an axis-aligned ellipse. */
function ellipseDist(x: number, y: number, cx: number, cy: number, rx: number, ry: number): number {
  const u = (x - cx) / rx;
  const v = (y - cy) / ry;
  return (Math.sqrt(u * u + v * v) - 1) * Math.min(rx, ry);
}

/** A mouth line through three points (left corner, middle, right corner) as a quadratic curve. */
function curve(x0: number, y0: number, xm: number, ym: number, x1: number, y1: number, segments = 8): number[] {
  // control point so that the curve passes through (xm, ym) at t = 0.5
  const cx = 2 * xm - (x0 + x1) / 2;
  const cy = 2 * ym - (y0 + y1) / 2;
  const pts: number[] = [];
  for (let i = 0; i <= segments; i++) {
    const t = i / segments;
    const a = (1 - t) * (1 - t);
    const b = 2 * t * (1 - t);
    const c = t * t;
    pts.push(a * x0 + b * cx + c * x1, a * y0 + b * cy + c * y1);
  }
  return pts;
}

/**
 * A deterministic set of 48x48 grey cartoon faces in FER2013's 7 classes. The expression is carried
 * only by brows, eyes and mouth; pose, size, lighting, contrast and noise vary so that the task is not
 * trivial. Each face comes with masks of its eye, brow and mouth regions, which saliency methods are
 * scored against. Face i depends only on (seed, i), so a larger set extends a smaller one.
 */
export function syntheticFaces(options: SyntheticOptions): FaceDataset {
  const { count, seed = 0, difficulty = 1 } = options;
  const S = IMAGE_SIZE;
  const pixels = new Uint8Array(count * PIXELS_PER_IMAGE);
  const labels = new Int8Array(count);
  const eyes = new Uint8Array(count * PIXELS_PER_IMAGE);
  const brows = new Uint8Array(count * PIXELS_PER_IMAGE);
  const mouth = new Uint8Array(count * PIXELS_PER_IMAGE);
  const D = difficulty;

  for (let n = 0; n < count; n++) {
    const rnd = mulberry32(hash2(seed, n));
    const r = (lo: number, hi: number) => lo + (hi - lo) * rnd();
    const gauss = gaussian(rnd);
    const label = n % 7;
    labels[n] = label;
    const e = EXPRESSIONS[label];

    // Pose and size: face units -> pixels.
    const angle = (r(-12, 12) * D * Math.PI) / 180;
    const scale = (S / 2) * 0.92 * (1 + r(-0.12, 0.06) * D);
    const cx = S / 2 + r(-3, 3) * D;
    const cy = S / 2 + r(-3, 3) * D + 1;
    const cosA = Math.cos(angle);
    const sinA = Math.sin(angle);
    const faceRx = r(0.72, 0.8);
    const faceRy = r(0.9, 0.98);

    // Expression with per-face jitter, so classes blur into each other a little as in real faces.
    const j = 0.05 * D;
    const browInner = e.browInner + r(-j, j);
    const browOuter = e.browOuter + r(-j, j);
    const eyeOpen = e.eyeOpen * (1 + r(-0.2, 0.2) * D);
    const mouthCurve = e.mouthCurve + r(-0.035, 0.035) * D;
    const mouthOpen = e.mouthOpen * (1 + r(-0.2, 0.2) * D);
    const mouthWidth = e.mouthWidth * (1 + r(-0.12, 0.12) * D);
    const sneerSide = rnd() < 0.5 ? -1 : 1;
    const eyeY = -0.12 + r(-0.04, 0.04) * D;
    const eyeX = 0.32 + r(-0.03, 0.03) * D;
    const mouthY = 0.45 + r(-0.05, 0.05) * D;

    const eyeRx = 0.14;
    const eyeRy = 0.085 * eyeOpen;
    const browStrokes: Stroke[] = [-1, 1].map((side) => {
      const lower = e.sneer && side === sneerSide ? 0.05 : 0;
      return {
        pts: [side * (eyeX + 0.15), browOuter + lower + eyeY + 0.12, side * 0.12, browInner + lower + eyeY + 0.12],
        half: 0.045,
      };
    });
    // brows run from the outer end (far from the nose) to the inner end
    for (const s of browStrokes) {
      const [ox, oy, ix, iy] = s.pts;
      s.pts = [ox, oy, (ox + ix) / 2, (oy + iy) / 2 - 0.02, ix, iy];
    }
    const lift = mouthCurve;
    const lx = -mouthWidth;
    const rx = mouthWidth;
    const leftY = mouthY - lift - e.sneer * sneerSide * 0.7;
    const rightY = mouthY - lift + e.sneer * sneerSide * 0.7;
    const mouthStroke: Stroke = { pts: curve(lx, leftY, 0, mouthY + lift * 0.3, rx, rightY), half: label === 0 ? 0.05 : 0.038 };

    // Light: skin, background and a gradient in a random direction; features darker than skin.
    const skin = r(130, 200);
    const bg = r(20, 110);
    const gradDir = r(0, 2 * Math.PI);
    const grad = r(0, 45) * D;
    const dark = r(70, 115);
    const noise = r(2, 11) * D;
    const px = 1 / scale; // one pixel in face units, for anti-aliasing

    const base = n * PIXELS_PER_IMAGE;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        // inverse pose transform: pixel centre -> face units
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const fx = (cosA * dx + sinA * dy) / scale;
        const fy = (-sinA * dx + cosA * dy) / scale;

        const dFace = ellipseDist(fx, fy, 0, 0, faceRx, faceRy);
        const inFace = Math.max(0, Math.min(1, 0.5 - dFace / px));
        let v = bg + (1 - inFace) * 0 + inFace * (skin - bg);
        // soft shading toward the face edge
        v -= inFace * 25 * Math.max(0, Math.min(1, (dFace + 0.25) / 0.25));

        let ink = 0; // 0..1 darkness from features
        let eyeMask = 0;
        let browMask = 0;
        let mouthMask = 0;
        // features lie well inside the face: skip them outside it (half the work)
        if (dFace < 0.02)
          for (let side = -1; side <= 1; side += 2) {
            const ex = side * eyeX;
            const dEye = ellipseDist(fx, fy, ex, eyeY, eyeRx, eyeRy);
            ink = Math.max(ink, 0.55 * Math.max(0, Math.min(1, 0.5 - dEye / px)));
            const dPupil = ellipseDist(fx, fy, ex, eyeY, Math.min(0.06, eyeRy), Math.min(0.06, eyeRy));
            ink = Math.max(ink, Math.max(0, Math.min(1, 0.5 - dPupil / px)));
            if (ellipseDist(fx, fy, ex, eyeY, eyeRx + 0.07, Math.max(eyeRy, 0.06) + 0.07) <= 0) eyeMask = 1;
          }
        if (dFace < 0.02)
          for (const b of browStrokes) {
            const dB = strokeDist(b, fx, fy);
            ink = Math.max(ink, 0.9 * Math.max(0, Math.min(1, 0.5 - dB / px)));
            if (dB <= 0.07) browMask = 1;
          }
        if (dFace >= 0.02) {
          // outside the face: no mouth
        } else if (mouthOpen > 0) {
          const dM = ellipseDist(fx, fy, 0, mouthY, mouthWidth, mouthOpen);
          ink = Math.max(ink, Math.max(0, Math.min(1, 0.5 - dM / px)));
          if (dM <= 0.08) mouthMask = 1;
        } else {
          const dM = strokeDist(mouthStroke, fx, fy);
          ink = Math.max(ink, Math.max(0, Math.min(1, 0.5 - dM / px)));
          if (dM <= 0.08) mouthMask = 1;
        }
        // a nose hint, the same in every class, so the model must look past it
        const dN = segDist(fx, fy, 0, eyeY + 0.1, 0.03, 0.27) - 0.02;
        ink = Math.max(ink, 0.35 * Math.max(0, Math.min(1, 0.5 - dN / px)));

        v -= inFace * ink * dark;
        v += grad * (Math.cos(gradDir) * (x / S - 0.5) + Math.sin(gradDir) * (y / S - 0.5)) * 2;
        v += noise * gauss();
        const i = base + y * S + x;
        pixels[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
        eyes[i] = eyeMask;
        brows[i] = browMask;
        mouth[i] = mouthMask;
      }
    }
  }
  return {
    pixels,
    labels,
    size: count,
    source: `synthetic faces (seed ${seed}, ${count} faces)`,
    format: 'synthetic',
    skipped: 0,
    masks: { eyes, brows, mouth },
  };
}
