/**
 * gradCheck: compare an analytic gradient with central finite differences, element by element, the
 * way torch.autograd.gradcheck does: an entry passes when |analytic − numeric| <= atol + rtol·|numeric|.
 *
 * Two kinds of function:
 *   - plain `(...xs: Float64Array[]) => number`, with the analytic gradient passed as `options.grad`;
 *     differences are taken in float64 (defaults eps 1e-6, atol 1e-5, rtol 1e-3, as torch);
 *   - tfjs `(...xs: tf.Tensor[]) => tf.Scalar` with tensor inputs; the analytic gradient is tf.grads,
 *     differences are taken in the tensors' float32 (defaults eps 1e-3, atol 1e-3, rtol 2e-3).
 *
 * Kinks (ReLU-like corners, max-pool ties): when x is within eps of a point where f is not
 * differentiable, the central difference averages the two one-sided slopes and matches no gradient.
 * Such an entry is reported as a kink, not a gradient error, when the one-sided slopes disagree by
 * more than the tolerance and the analytic value lies between them (a valid one-sided derivative,
 * which is what autodiff returns at a corner). Kinks fail the check unless `allowKinks` is set;
 * either way they are listed, with both slopes, so the caller can move the input away.
 */
import { tf, tidyValues } from './tf.js';

export class GradCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradCheckError';
  }
}

export interface GradCheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Analytic gradient of a plain function: one array per input, same lengths. */
  grad?: (...inputs: Float64Array[]) => ArrayLike<number>[];
  /** Count entries at a kink as passing (they are still listed). */
  allowKinks?: boolean;
  /** Throw a GradCheckError describing the first failures instead of returning pass: false. */
  throwOnFailure?: boolean;
}

export interface GradCheckEntry {
  input: number;
  index: number;
  x: number;
  analytic: number;
  numeric: number;
  absError: number;
  /** |a − n| / max(|a|, |n|), 0 when both are 0. */
  relError: number;
  pass: boolean;
  /** One-sided slopes when x is within eps of a kink. */
  kink?: { left: number; right: number };
}

export interface GradCheckResult {
  pass: boolean;
  dtype: 'float64' | 'float32';
  eps: number;
  atol: number;
  rtol: number;
  maxAbsError: number;
  maxRelError: number;
  entries: GradCheckEntry[];
  failures: GradCheckEntry[];
  kinks: GradCheckEntry[];
}

type PlainFn = (...inputs: Float64Array[]) => number;
type TfFn = (...inputs: tf.Tensor[]) => tf.Tensor;

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

export function gradCheck(f: TfFn, inputs: tf.Tensor[], options?: GradCheckOptions): GradCheckResult;
export function gradCheck(f: PlainFn, inputs: (Float64Array | number[])[], options: GradCheckOptions & { grad: NonNullable<GradCheckOptions['grad']> }): GradCheckResult;
export function gradCheck(f: PlainFn | TfFn, inputs: (Float64Array | number[] | tf.Tensor)[], options: GradCheckOptions = {}): GradCheckResult {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new GradCheckError('gradCheck needs a non-empty list of inputs, e.g. gradCheck(f, [x])');
  }
  const tensors = inputs.every(isTensor);
  if (!tensors && inputs.some(isTensor)) {
    throw new GradCheckError('gradCheck inputs must be all tf.Tensors (a tfjs function) or all arrays (a plain function), not a mix');
  }
  return tensors
    ? checkTf(f as TfFn, inputs as tf.Tensor[], options)
    : checkPlain(
        f as PlainFn,
        inputs.map((x) => Float64Array.from(x as ArrayLike<number>)),
        options,
      );
}

function scalarOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new GradCheckError(`${what} must return a finite number, got ${String(v)}; gradCheck checks scalar functions`);
  }
  return v;
}

interface Probe {
  /** f with input j's element i set to t, everything else at the check point. */
  at(input: number, index: number, t: number): number;
  /** The point's own value of that element, as the function sees it. */
  value(input: number, index: number): number;
  /** The nearest value the input's dtype can hold, so the step is measured as actually taken. */
  representable(t: number): number;
}

function compare(
  probe: Probe,
  shapes: number[],
  analytic: ArrayLike<number>[],
  opts: { eps: number; atol: number; rtol: number; allowKinks: boolean; dtype: 'float64' | 'float32' },
): GradCheckResult {
  const { eps, atol, rtol } = opts;
  const entries: GradCheckEntry[] = [];
  shapes.forEach((n, input) => {
    for (let index = 0; index < n; index++) {
      const x = probe.value(input, index);
      const xUp = probe.representable(x + eps);
      const xDown = probe.representable(x - eps);
      const up = probe.at(input, index, xUp);
      const down = probe.at(input, index, xDown);
      const numeric = (up - down) / (xUp - xDown);
      const a = analytic[input][index];
      const absError = Math.abs(a - numeric);
      const scale = Math.max(Math.abs(a), Math.abs(numeric));
      const tol = atol + rtol * Math.abs(numeric);
      const entry: GradCheckEntry = {
        input,
        index,
        x,
        analytic: a,
        numeric,
        absError,
        relError: scale === 0 ? 0 : absError / scale,
        pass: absError <= tol,
      };
      if (!entry.pass) {
        const here = probe.at(input, index, x);
        const right = (up - here) / (xUp - x);
        const left = (here - down) / (x - xDown);
        const sideTol = atol + rtol * Math.max(Math.abs(left), Math.abs(right));
        const between = a >= Math.min(left, right) - sideTol && a <= Math.max(left, right) + sideTol;
        if (Math.abs(right - left) > 2 * sideTol && between) {
          entry.kink = { left, right };
          entry.pass = opts.allowKinks;
        }
      }
      entries.push(entry);
    }
  });
  const failures = entries.filter((e) => !e.pass);
  return {
    pass: failures.length === 0,
    dtype: opts.dtype,
    eps,
    atol,
    rtol,
    maxAbsError: entries.reduce((m, e) => Math.max(m, e.absError), 0),
    maxRelError: entries.reduce((m, e) => Math.max(m, e.relError), 0),
    entries,
    failures,
    kinks: entries.filter((e) => e.kink),
  };
}

function checkPlain(f: PlainFn, inputs: Float64Array[], options: GradCheckOptions): GradCheckResult {
  if (typeof options.grad !== 'function') {
    throw new GradCheckError('a plain function has no gradient of its own: pass options.grad, (...inputs) => [dF/dinput0, ...]');
  }
  inputs.forEach((x, j) => {
    if (!x.every(Number.isFinite)) throw new GradCheckError(`input ${j} contains a non-finite value`);
  });
  const analytic = options.grad(...inputs.map((x) => Float64Array.from(x)));
  if (!Array.isArray(analytic) || analytic.length !== inputs.length || analytic.some((g, j) => g?.length !== inputs[j].length)) {
    throw new GradCheckError(`options.grad must return one array per input with the input's length (${inputs.map((x) => x.length).join(', ')})`);
  }
  scalarOf(f(...inputs), 'f');
  const probe: Probe = {
    value: (j, i) => inputs[j][i],
    representable: (t) => t,
    at: (j, i, t) => {
      const moved = inputs.map((x, k) => (k === j ? Float64Array.from(x) : x));
      moved[j][i] = t;
      return scalarOf(f(...moved), 'f');
    },
  };
  const result = compare(
    probe,
    inputs.map((x) => x.length),
    analytic,
    {
      eps: options.eps ?? 1e-6,
      atol: options.atol ?? 1e-5,
      rtol: options.rtol ?? 1e-3,
      allowKinks: options.allowKinks ?? false,
      dtype: 'float64',
    },
  );
  return finish(result, options);
}

function checkTf(f: TfFn, inputs: tf.Tensor[], options: GradCheckOptions): GradCheckResult {
  inputs.forEach((x, j) => {
    if (x.dtype !== 'float32') throw new GradCheckError(`input ${j} has dtype ${x.dtype}; tfjs gradients need float32 tensors`);
  });
  const values = inputs.map((x) => x.dataSync() as Float32Array);
  const evalAt = (xs: tf.Tensor[]): number =>
    tf.tidy(() => {
      const y = f(...xs);
      if (!isTensor(y) || y.size !== 1) {
        throw new GradCheckError(`f must return a scalar tensor, got ${isTensor(y) ? `shape [${y.shape}]` : String(y)}`);
      }
      return scalarOf(y.dataSync()[0], 'f');
    });
  evalAt(inputs);
  const analytic = tidyValues(() =>
    tf
      .grads((...xs: tf.Tensor[]) => f(...xs))(inputs)
      .map((g) => Float64Array.from(g.dataSync())),
  );
  const probe: Probe = {
    value: (j, i) => values[j][i],
    representable: Math.fround,
    at: (j, i, t) => {
      const moved = Float32Array.from(values[j]);
      moved[i] = t;
      const tensor = tf.tensor(moved, inputs[j].shape, 'float32');
      try {
        return evalAt(inputs.map((x, k) => (k === j ? tensor : x)));
      } finally {
        tensor.dispose();
      }
    },
  };
  const result = compare(
    probe,
    values.map((v) => v.length),
    analytic,
    {
      eps: options.eps ?? 1e-3,
      atol: options.atol ?? 1e-3,
      rtol: options.rtol ?? 2e-3,
      allowKinks: options.allowKinks ?? false,
      dtype: 'float32',
    },
  );
  return finish(result, options);
}

function finish(result: GradCheckResult, options: GradCheckOptions): GradCheckResult {
  if (!result.pass && options.throwOnFailure) {
    const lines = result.failures
      .slice(0, 5)
      .map((e) =>
        e.kink
          ? `input ${e.input}[${e.index}] = ${e.x} is within eps of a kink (one-sided slopes ${e.kink.left} and ${e.kink.right}); move it away or pass allowKinks`
          : `input ${e.input}[${e.index}] = ${e.x}: analytic ${e.analytic}, numeric ${e.numeric}`,
      );
    throw new GradCheckError(`gradient check failed on ${result.failures.length} of ${result.entries.length} entries:\n  ${lines.join('\n  ')}`);
  }
  return result;
}
