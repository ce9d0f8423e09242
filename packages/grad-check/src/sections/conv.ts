/**
 * A 2-D convolution's output shape, counted from the definition: output position o along one axis
 * exists exactly when its window [o*s, o*s + k) fits inside the padded input of length n + 2p.
 * Batch and channel counts come from the same definition: one output per input image and one
 * output map per filter.
 */
import { tf } from '../tf.js';
import type { CheckResult, Section } from './types.js';

export function countWindows(n: number, k: number, p: number, s: number): number {
  let count = 0;
  for (let o = 0; o * s + k <= n + 2 * p; o++) count++;
  return count;
}

export const convOutputSize = (n: number, k: number, p: number, s: number): number => Math.floor((n + 2 * p - k) / s) + 1;

interface Axis {
  n: number;
  k: number;
  p: number;
  s: number;
}

/** Every (n, k, p, s) with n <= 12, k <= 5, p <= 2, s <= 3 and a window that fits at least once. */
export function axisGrid(): Axis[] {
  const out: Axis[] = [];
  for (let n = 1; n <= 12; n++) for (let k = 1; k <= 5; k++) for (let p = 0; p <= 2; p++) for (let s = 1; s <= 3; s++) if (k <= n + 2 * p) out.push({ n, k, p, s });
  return out;
}

/** Pairs each width setting with a different height setting, so the two axes never move together. */
function convGrid(): Record<string, number>[] {
  const axes = axisGrid();
  const stride = 97; // coprime with the grid size, so j -> 97 j mod L is a permutation
  return axes.map((w, j) => {
    const h = axes[(j * stride) % axes.length];
    const N = 1 + (j % 3);
    const Cin = 1 + ((j >> 1) % 3);
    const Cout = 1 + (j % 4);
    return {
      N,
      Cin,
      Cout,
      W: w.n,
      kW: w.k,
      pW: w.p,
      sW: w.s,
      H: h.n,
      kH: h.k,
      pH: h.p,
      sH: h.s,
      outN: N,
      outC: Cout,
      outH: countWindows(h.n, h.k, h.p, h.s),
      outW: countWindows(w.n, w.k, w.p, w.s),
    };
  });
}

function relError(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

function shapeError(got: readonly (number | null)[], want: readonly number[]): number {
  return Math.max(...want.map((w, i) => relError(got[i] ?? Number.NaN, w)));
}

function convChecks(): CheckResult[] {
  const axes = axisGrid();
  let countErr = 0;
  for (const a of axes) countErr = Math.max(countErr, relError(countWindows(a.n, a.k, a.p, a.s), convOutputSize(a.n, a.k, a.p, a.s)));

  // tf.conv2d with explicit padding is the only tfjs API that takes the report's p directly.
  const grid = convGrid();
  let opErr = 0;
  let layerErr = 0;
  for (const g of grid) {
    const want = [g.N, convOutputSize(g.H, g.kH, g.pH, g.sH), convOutputSize(g.W, g.kW, g.pW, g.sW), g.Cout];
    const shape = tf.tidy(() => {
      const x = tf.zeros([g.N, g.H, g.W, g.Cin]) as tf.Tensor4D;
      const f = tf.zeros([g.kH, g.kW, g.Cin, g.Cout]) as tf.Tensor4D;
      return tf.conv2d(
        x,
        f,
        [g.sH, g.sW],
        [
          [0, 0],
          [g.pH, g.pH],
          [g.pW, g.pW],
          [0, 0],
        ],
      ).shape;
    });
    const err = shapeError(shape, want);
    opErr = Math.max(opErr, Number.isNaN(err) ? Infinity : err);
    // tfjs-layers has no numeric padding: ZeroPadding2D followed by a 'valid' Conv2D is the same layer.
    const pad = tf.layers.zeroPadding2d({
      padding: [
        [g.pH, g.pH],
        [g.pW, g.pW],
      ],
    });
    const conv = tf.layers.conv2d({ filters: g.Cout, kernelSize: [g.kH, g.kW], strides: [g.sH, g.sW], padding: 'valid' });
    const padded = pad.computeOutputShape([g.N, g.H, g.W, g.Cin]) as number[];
    const out = conv.computeOutputShape(padded) as (number | null)[];
    const lerr = shapeError(out, want);
    layerErr = Math.max(layerErr, Number.isNaN(lerr) ? Infinity : lerr);
  }
  const sizes = `all ${axes.length} (n, k, p, s) with n ≤ 12, k ≤ 5, p ≤ 2, s ≤ 3`;
  return [
    {
      name: 'conv output size: counted window positions = ⌊(n + 2p − k)/s⌋ + 1',
      kind: 'count',
      section: 'conv',
      sizes,
      points: axes.length,
      maxRelError: countErr,
      tolerance: 0,
      pass: countErr === 0,
      method: 'exhaustive, exact integers',
    },
    {
      name: 'conv output shape: tf.conv2d (explicit padding) = [N, ⌊…⌋+1, ⌊…⌋+1, C_out]',
      kind: 'tfjs-shape',
      section: 'conv',
      sizes: `${grid.length} shapes, H and W settings paired differently`,
      points: grid.length,
      maxRelError: opErr,
      tolerance: 0,
      pass: opErr === 0,
      method: 'tf.conv2d output .shape',
    },
    {
      name: 'conv output shape: tf.layers zeroPadding2d → conv2d computeOutputShape',
      kind: 'tfjs-shape',
      section: 'conv',
      sizes: `${grid.length} shapes`,
      points: grid.length,
      maxRelError: layerErr,
      tolerance: 0,
      pass: layerErr === 0,
      method: 'Layer.computeOutputShape',
    },
  ];
}

export const conv: Section = {
  name: 'conv',
  title: 'Convolution output shape',
  nodes: [],
  conditions: [],
  imposable: [],
  sample: () => convGrid(),
  closedForms: [],
  extraChecks: convChecks,
  describe: (_size, s) => {
    const keys = ['N', 'Cin', 'Cout', 'H', 'kH', 'pH', 'sH', 'W', 'kW', 'pW', 'sW'];
    return Object.fromEntries(keys.map((k) => [k, s[k]]));
  },
};
