import type { NodeDefinition } from '../template.js';
import type { Rng } from '../random.js';

export type SectionName = 'conv' | 'batchnorm' | 'softmax';

export interface Condition {
  /** mathjs boolean over the claim's variables, e.g. `gamma == 1`, `t == c`. */
  expr: string;
  /** How the report's reader should read it, e.g. "γ = 1". */
  text: string;
}

/** A textbook formula the definitions are checked against (never taken from the report). */
export interface ClosedForm {
  /** What it is the value of: `grad(x[i])`, `grad(sigma2)`, ... */
  quantity: string;
  label: string;
  closed: string;
}

/** One gradient from tfjs, as float64 for comparison; one entry per index value (or one entry). */
export type AutodiffFn = (size: number, base: Record<string, number>, quantity: string) => Float64Array | null;

export interface Section {
  name: SectionName;
  title: string;
  /** The batch-size symbol and the sizes every check runs at. */
  size?: { symbol: string; values: number[] };
  /** The free index a per-element claim uses (i, t), ranging over 1..size. */
  index?: string;
  /** The forward computation as a graph, in topological order; `loss` names its scalar output. */
  nodes: NodeDefinition[];
  loss?: string;
  /** Hypotheses tried on every claim of the section that does not hold everywhere. */
  conditions: Condition[];
  /** Base variables that a condition `v == constant` may fix when sampling; other conditions filter. */
  imposable: string[];
  /**
   * Values of the base variables at `count` points. `nice` asks for small round numbers, so that a
   * counterexample can be checked by hand.
   */
  sample(size: number | undefined, count: number, rng: Rng, nice: boolean): Record<string, number>[];
  closedForms: ClosedForm[];
  /** tfjs's gradient of the same function, written with tfjs ops. */
  autodiff?: AutodiffFn;
  /** tfjs's gradient through the real layer or loss; null where the layer does not expose the quantity. */
  layerAutodiff?: AutodiffFn;
  /** Checks that are not derivatives (the convolution shapes). */
  extraChecks?: () => CheckResult[];
  /** Base variables that describe a point to a reader (counterexamples list these). */
  describe(size: number | undefined, scope: Record<string, number>): Record<string, number>;
}

export type CheckKind = 'symbolic' | 'numeric' | 'autodiff' | 'autodiff-layer' | 'count' | 'tfjs-shape' | 'correction';

/** One reference check: the definitions against a textbook formula, or a corrected claim. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  section: SectionName;
  /** e.g. "m = 2..6", or "grid of 540 (n, k, p, s)". */
  sizes: string;
  points: number;
  /** Largest relative error seen (see README for the vector form). */
  maxRelError: number;
  tolerance: number;
  pass: boolean;
  /** How equality was decided, e.g. "symbolicEqual proved 12 of 20, random points for the rest". */
  method: string;
  /** The closed form checked, in the template language. */
  formula?: string;
}
