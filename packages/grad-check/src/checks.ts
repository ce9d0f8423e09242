/**
 * Reference checks: the definitions against textbook closed forms, three independent ways.
 *   symbolic  mathjs's derivative of the definition; symbolicEqual where it can prove equality,
 *             otherwise both compiled and compared at random float64 points
 *   numeric   central finite differences of the definition in float64
 *   autodiff  tfjs's gradient of the same function, and of the real layer or loss (float32)
 * These must all pass for the verifier to exit 0: they are what makes the verdicts on the report's
 * claims trustworthy.
 *
 * Relative error of a gradient vector a against b is max_i |a_i − b_i| / max_i max(|a_i|, |b_i|),
 * for a scalar exactly |a − b| / max(|a|, |b|). Scaling by the largest entry keeps an entry that is
 * tiny through cancellation (dℓ/dx_i sums to 0 over i) from turning rounding noise into a failure.
 *
 * The denominator also includes the size of the terms the closed form adds up (its value with every
 * sum taken over absolute values, the classical condition measure of a sum); without cancellation
 * this changes nothing. With it, it keeps the checks about the formula rather than about rounding:
 * with m = 2, x̂ = ±σ/√(σ²+ε) whatever x is, so ∂ℓ/∂x_i is only ε/(σ²+ε) of its terms (1e-6 at
 * ε = 1e-5), and for m = 3 a random dℓ/dy can lie almost in span{1, x̂}, where ∂ℓ/∂x vanishes.
 * Neither float32 backprop nor float64 differences resolve such a gradient to 1e-7 of itself, while
 * a wrong formula still misses by the size of its terms and fails.
 */
import * as math from 'mathjs';
import type { MathNode } from 'mathjs';
import { SectionModel } from './engine.js';
import { createRng } from './random.js';
import { sections } from './sections/index.js';
import type { CheckResult, ClosedForm, Section, SectionName } from './sections/types.js';
import { expand } from './template.js';
import { useCpuBackend } from './tf.js';

export interface CheckOptions {
  seed?: number;
  /** Restrict the sizes (m, K) per section, e.g. for a quick test. */
  sizes?: Partial<Record<SectionName, number[]>>;
  sections?: SectionName[];
  /** Random points per size for the symbolic comparison (at least 100 by default: 120). */
  symbolicPoints?: number;
  numericPoints?: number;
  autodiffPoints?: number;
}

export const TOLERANCE = {
  /** Two float64 evaluations of expressions that are equal as algebra. */
  symbolic: 1e-9,
  /** Central differences in float64 with a step near the cube root of machine epsilon. */
  numeric: 1e-7,
  /** tfjs computes in float32. */
  autodiff: 2e-3,
} as const;

export function relErrorVector(a: ArrayLike<number>, b: ArrayLike<number>, termScale = 0): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = termScale;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return Infinity;
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]), Math.abs(b[i]));
  }
  return den === 0 ? 0 : num / den;
}

/** Expressions longer than this are not handed to symbolicEqual, whose simplifier grows too slow. */
const PROOF_SIZE_LIMIT = 400;

class ClosedFormChecker {
  private readonly model: SectionModel;
  private readonly closedCache = new Map<string, math.EvalFunction>();
  private readonly lossCache = new Map<string, math.EvalFunction>();
  private readonly closedNodes = new Map<string, MathNode>();

  constructor(
    private readonly section: Section,
    private readonly cf: ClosedForm,
    private readonly sizes: number[],
    private readonly options: CheckOptions,
  ) {
    this.model = new SectionModel(section);
  }

  private indices(size: number) {
    return this.model.indexValues(size, this.cf.quantity);
  }

  /** The variable grad() is taken with respect to, at one index: `grad(x[i])` at i = 2 -> x_2. */
  private variable(size: number, index: Record<string, number>): string {
    const grads = new Set<string>();
    expand(this.cf.quantity, this.model.context(size, index, grads), this.cf.label);
    const [g] = [...grads];
    return g.slice('grad_'.length);
  }

  private closedValue(size: number, index: Record<string, number>, scope: Record<string, number>): number {
    const key = `${size}|${JSON.stringify(index)}`;
    let fn = this.closedCache.get(key);
    if (!fn) {
      fn = expand(this.cf.closed, this.model.context(size, index), this.cf.label).compile();
      this.closedCache.set(key, fn);
    }
    return fn.evaluate(scope) as number;
  }

  private closedVector(size: number, scope: Record<string, number>): Float64Array {
    return Float64Array.from(this.indices(size), (idx) => this.closedValue(size, idx, scope));
  }

  /** The largest Σ|terms| of the closed form over the indices (see the header). */
  private termScale(size: number, scope: Record<string, number>): number {
    return Math.max(
      ...this.indices(size).map((idx) => {
        const key = `${size}|${JSON.stringify(idx)}`;
        let node = this.closedNodes.get(key);
        if (!node) {
          node = expand(this.cf.closed, this.model.context(size, idx), this.cf.label);
          this.closedNodes.set(key, node);
        }
        return magnitude(node, scope);
      }),
    );
  }

  private sample(size: number, count: number, salt: string) {
    const rng = createRng(((this.options.seed ?? 1) * 40503) ^ hashString(`${this.section.name}${this.cf.quantity}${size}${salt}`));
    return this.section.sample(size, count, rng, false);
  }

  private sizesText(): string {
    const s = this.section.size!;
    const v = this.sizes;
    return v.length > 1 && v[v.length - 1] - v[0] === v.length - 1 ? `${s.symbol} = ${v[0]}..${v[v.length - 1]}` : `${s.symbol} ∈ {${v.join(', ')}}`;
  }

  private result(kind: CheckResult['kind'], name: string, points: number, maxRelError: number, tolerance: number, method: string): CheckResult {
    return {
      name: `${this.cf.label}: ${name}`,
      kind,
      section: this.section.name,
      sizes: this.sizesText(),
      points,
      maxRelError,
      tolerance,
      pass: maxRelError < tolerance,
      method,
      formula: this.cf.closed,
    };
  }

  symbolic(): CheckResult {
    let proved = 0;
    let cases = 0;
    let points = 0;
    let maxErr = 0;
    const count = this.options.symbolicPoints ?? 120;
    for (const size of this.sizes) {
      for (const index of this.indices(size)) {
        cases++;
        const v = this.variable(size, index);
        const fromDefinition = this.model.fullyInlined(size, this.model.gradExpression(size, v));
        const closed = this.model.fullyInlined(size, expand(this.cf.closed, this.model.context(size, index), this.cf.label));
        if (tryProve(fromDefinition, closed)) proved++;
      }
      for (const base of this.sample(size, count, 'symbolic')) {
        const scope = this.model.forward(size, base);
        const vars = this.indices(size).map((idx) => `grad_${this.variable(size, idx)}`);
        this.model.addGrads(size, scope, vars);
        const fromDefinition = vars.map((g) => scope[g]);
        maxErr = Math.max(maxErr, relErrorVector(fromDefinition, this.closedVector(size, scope), this.termScale(size, scope)));
        points++;
      }
    }
    const method =
      proved === cases
        ? `symbolicEqual proved all ${cases} cases; also compared at ${points} random points`
        : `symbolicEqual proved ${proved} of ${cases} cases; all compared as compiled functions at ${points} random float64 points`;
    return this.result('symbolic', 'mathjs derivative of the definition = closed form', points, maxErr, TOLERANCE.symbolic, method);
  }

  numeric(): CheckResult {
    let maxErr = 0;
    let points = 0;
    for (const size of this.sizes) {
      for (const base of this.sample(size, this.options.numericPoints ?? 10, 'numeric')) {
        const scope = this.model.forward(size, base);
        const numeric = this.indices(size).map((idx) => {
          const v = this.variable(size, idx);
          const key = `${size}|${v}`;
          let f = this.lossCache.get(key);
          if (!f) {
            f = this.model.lossAsFunctionOf(size, v).compile();
            this.lossCache.set(key, f);
          }
          return centralDifference5((t) => f!.evaluate({ ...scope, [v]: t }) as number, scope[v]);
        });
        maxErr = Math.max(maxErr, relErrorVector(numeric, this.closedVector(size, scope), this.termScale(size, scope)));
        points++;
      }
    }
    return this.result(
      'numeric',
      'float64 central differences of the definition = closed form',
      points,
      maxErr,
      TOLERANCE.numeric,
      'five-point central difference, step chosen where successive halvings agree',
    );
  }

  autodiff(layer: boolean): CheckResult | undefined {
    const fn = layer ? this.section.layerAutodiff : this.section.autodiff;
    if (!fn) return undefined;
    let maxErr = 0;
    let points = 0;
    for (const size of this.sizes) {
      for (const base of this.sample(size, this.options.autodiffPoints ?? 5, layer ? 'layer' : 'autodiff')) {
        const got = fn(size, base, this.cf.quantity);
        if (got === null) return undefined;
        const scope = this.model.forward(size, base);
        maxErr = Math.max(maxErr, relErrorVector(got, this.closedVector(size, scope), this.termScale(size, scope)));
        points++;
      }
    }
    const what = layer ? LAYER_NAMES[this.section.name] : 'tfjs grad of the same function';
    return this.result(layer ? 'autodiff-layer' : 'autodiff', `${what} = closed form`, points, maxErr, TOLERANCE.autodiff, 'tfjs cpu backend, float32');
  }
}

const LAYER_NAMES: Record<SectionName, string> = {
  batchnorm: 'tf.layers.batchNormalization (training) grad',
  softmax: 'tf.losses.softmaxCrossEntropy grad',
  conv: 'tf.layers',
};

/** Central difference with a step that is exactly representable around v. */
export function centralDifference(f: (v: number) => number, v: number, step = 6e-6): number {
  const h = step * Math.max(1, Math.abs(v));
  const up = v + h;
  const down = v - h;
  return (f(up) - f(down)) / (up - down);
}

/**
 * Fourth-order central difference (Richardson on two central differences): truncation error O(h^4),
 * so rounding in f stays far below 1e-7 even of a gradient that is 1e-5 of f's size (BatchNorm,
 * m = 2, small ε). No single h suits every variable (σ² near 0.05 curves far faster than x near 3),
 * so h is halved from 0.1·max(1, |v|) and the estimate taken where two successive ones agree best,
 * the usual step-selection rule.
 */
export function centralDifference5(f: (v: number) => number, v: number): number {
  const at = (h: number) => (-f(v + 2 * h) + 8 * f(v + h) - 8 * f(v - h) + f(v - 2 * h)) / (12 * h);
  let h = 1e-1 * Math.max(1, Math.abs(v));
  let prev = at(h);
  let best = prev;
  let bestGap = Infinity;
  for (let j = 0; j < 14; j++) {
    h /= 2;
    const next = at(h);
    const gap = Math.abs(next - prev);
    // A large first step can leave f's domain (σ² + ε < 0); such estimates are NaN and never chosen.
    if (gap < bestGap) {
      bestGap = gap;
      best = next;
    }
    prev = next;
  }
  return best;
}

/** The value of an expression with every sum and difference taken over absolute values. */
export function magnitude(node: MathNode, scope: Record<string, number>): number {
  const n = node as MathNode & { op?: string; args?: MathNode[]; content?: MathNode; fn?: unknown };
  switch (node.type) {
    case 'ParenthesisNode':
      return magnitude(n.content!, scope);
    case 'OperatorNode': {
      const args = n.args!;
      if (args.length === 1 && (n.op === '-' || n.op === '+')) return magnitude(args[0], scope);
      if (args.length === 2 && (n.op === '+' || n.op === '-')) return magnitude(args[0], scope) + magnitude(args[1], scope);
      if (args.length === 2 && n.op === '*') return magnitude(args[0], scope) * magnitude(args[1], scope);
      if (args.length === 2 && n.op === '/') return magnitude(args[0], scope) / Math.abs(args[1].evaluate(scope) as number);
      return Math.abs(node.evaluate(scope) as number);
    }
    default:
      return Math.abs(node.evaluate(scope) as number);
  }
}

function tryProve(a: MathNode, b: MathNode): boolean {
  if (a.toString().length + b.toString().length > PROOF_SIZE_LIMIT) return false;
  try {
    return math.symbolicEqual(a, b);
  } catch {
    return false;
  }
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The symbolic, numeric and autodiff checks of one closed form (a textbook formula, or one to test). */
export function checkClosedForm(section: Section, cf: ClosedForm, options: CheckOptions = {}): CheckResult[] {
  const sizes = options.sizes?.[section.name] ?? section.size?.values ?? [];
  const checker = new ClosedFormChecker(section, cf, sizes, options);
  const out = [checker.symbolic(), checker.numeric()];
  for (const layer of [false, true]) {
    const r = checker.autodiff(layer);
    if (r) out.push(r);
  }
  return out;
}

/** Every reference check of the chosen sections. */
export async function runReferenceChecks(options: CheckOptions = {}): Promise<CheckResult[]> {
  await useCpuBackend();
  const out: CheckResult[] = [];
  const chosen = options.sections ?? (Object.keys(sections) as SectionName[]);
  for (const name of chosen) {
    const section = sections[name];
    if (section.extraChecks) out.push(...section.extraChecks());
    for (const cf of section.closedForms) out.push(...checkClosedForm(section, cf, options));
  }
  return out;
}
