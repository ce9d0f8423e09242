/**
 * Judges formulas written in the template language against the definitions: each claim says
 * "quantity = formula"; both sides are evaluated at many sampled points (every batch size, every
 * index), and the verdict, counterexample and any condition under which it holds come from those
 * numbers alone.
 */
import * as math from 'mathjs';
import type { MathNode } from 'mathjs';
import { SectionModel } from './engine.js';
import { createRng, type Rng } from './random.js';
import { sections } from './sections/index.js';
import type { Condition, SectionName } from './sections/types.js';
import { TemplateError } from './template.js';
import { ClaimsError, loadClaims, parseClaims, type Claim, type ClaimsFile } from './claims-file.js';

export { ClaimsError, loadClaims, parseClaims, SECTION_NAMES } from './claims-file.js';
export type { Claim, ClaimsFile } from './claims-file.js';

export type Verdict = 'holds' | 'fails' | 'holds-if';

export interface Counterexample {
  /** m or K. */
  size?: Record<string, number>;
  index?: Record<string, number>;
  values: Record<string, number>;
  /** The claim's right-hand side there. */
  claimed: number;
  /** The quantity's value from the definitions. */
  actual: number;
}

export interface ClaimResult extends Pick<Claim, 'id' | 'section' | 'latex' | 'quantity' | 'mathjs' | 'reading' | 'note'> {
  verdict: Verdict;
  /** For holds-if: the sufficient conditions found, `exact` when the claim fails everywhere else. */
  conditions?: { text: string; expr: string; exact: boolean }[];
  condition?: string;
  points: number;
  failures: number;
  maxRelError: number;
  counterexample?: Counterexample;
  corrected?: { latex: string; mathjs: string; holds: boolean; points: number; maxRelError: number };
}

export interface VerifyOptions {
  seed?: number;
  /** Points per (size, index) case; 24 unless told. */
  pointsPerCase?: number;
  /** Restrict the sizes (m, K) a section runs at, e.g. for a quick test. */
  sizes?: Partial<Record<SectionName, number[]>>;
}

interface Record_ {
  size: number | undefined;
  index: Record<string, number>;
  scope: Record<string, number>;
  actual: number;
  claimed: number;
  ok: boolean;
}

const RTOL = 1e-8;
const close = (a: number, b: number) => Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= RTOL * Math.max(1, Math.abs(a), Math.abs(b));
const relError = (a: number, b: number) => {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
};

function evaluate(fn: { evaluate(scope: object): unknown }, scope: Record<string, number>, what: string): number {
  let v: unknown;
  try {
    v = fn.evaluate(scope);
  } catch (err) {
    throw new ClaimsError(
      `${what}: ${(err as Error).message} (variables here: ${Object.keys(scope)
        .filter((k) => !k.startsWith('grad_'))
        .join(', ')})`,
    );
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw new ClaimsError(`${what}: evaluates to ${math.typeOf(v)}, expected a number`);
  return v;
}

/** `v == constant` with v a variable the sampler may fix; anything else is used as a filter. */
function imposedAssignment(expr: string, imposable: string[]): [string, number] | undefined {
  const node = math.parse(expr) as MathNode & { op?: string; args?: MathNode[] };
  if (node.type !== 'OperatorNode' || node.op !== '==' || !node.args) return undefined;
  const [lhs, rhs] = node.args;
  if (lhs.type !== 'SymbolNode' || !imposable.includes((lhs as math.SymbolNode).name)) return undefined;
  try {
    const value = rhs.evaluate();
    return typeof value === 'number' ? [(lhs as math.SymbolNode).name, value] : undefined;
  } catch {
    return undefined;
  }
}

class ClaimRunner {
  constructor(
    private readonly model: SectionModel,
    private readonly claim: Claim,
    private readonly options: Required<Pick<VerifyOptions, 'pointsPerCase'>> & VerifyOptions,
  ) {}

  private sizes(): (number | undefined)[] {
    const s = this.model.section;
    return this.options.sizes?.[s.name] ?? s.size?.values ?? [undefined];
  }

  /** Both sides of "quantity = formula" at sampled points of every size and index. */
  run(formula: string, rng: Rng, opts: { nice?: boolean; fix?: [string, number] } = {}): Record_[] {
    const { model, claim } = this;
    const out: Record_[] = [];
    const wrap = <T>(f: () => T): T => {
      try {
        return f();
      } catch (err) {
        if (err instanceof TemplateError) throw new ClaimsError(`claim ${claim.id}: ${err.message}`);
        throw err;
      }
    };
    // Counterexamples come from the smallest size, where a reader can redo them by hand.
    const sizes = opts.nice ? this.sizes().slice(0, 1) : this.sizes();
    for (const size of sizes) {
      for (const index of model.indexValues(size, `${claim.quantity} ${formula}`)) {
        const lhs = wrap(() => model.compile(claim.quantity, size, index, 'quantity'));
        const rhs = wrap(() => model.compile(formula, size, index, 'formula'));
        const count = opts.nice ? 40 : this.options.pointsPerCase;
        for (const base of model.section.sample(size, count, rng, opts.nice ?? false)) {
          if (opts.fix) base[opts.fix[0]] = opts.fix[1];
          const scope = model.forward(size, base);
          model.addGrads(size, scope, new Set([...lhs.grads, ...rhs.grads]));
          const actual = evaluate(lhs.fn, scope, `claim ${claim.id}: quantity "${claim.quantity}"`);
          const claimed = evaluate(rhs.fn, scope, `claim ${claim.id}: formula "${formula}"`);
          const rec: Record_ = { size, index, scope, actual, claimed, ok: close(actual, claimed) };
          out.push(rec);
        }
      }
    }
    return out;
  }

  private readonly conditionCache = new Map<string, { evaluate(scope: object): unknown }>();

  conditionHolds(cond: Condition, rec: Record_): boolean {
    const key = `${cond.expr}|${rec.size}|${JSON.stringify(rec.index)}`;
    let fn = this.conditionCache.get(key);
    if (!fn) {
      try {
        fn = this.model.compile(cond.expr, rec.size, rec.index, 'condition').fn;
      } catch (err) {
        throw new ClaimsError(`claim ${this.claim.id}: condition "${cond.expr}": ${(err as Error).message}`);
      }
      this.conditionCache.set(key, fn);
    }
    return evaluate(fn, rec.scope, `claim ${this.claim.id}: condition "${cond.expr}"`) === 1;
  }
}

function summarise(records: Record_[]) {
  const failures = records.filter((r) => !r.ok);
  const maxRelError = records.reduce((m, r) => Math.max(m, relError(r.actual, r.claimed)), 0);
  return { failures, maxRelError };
}

function toCounterexample(model: SectionModel, rec: Record_): Counterexample {
  const s = model.section;
  return {
    size: s.size && rec.size !== undefined ? { [s.size.symbol]: rec.size } : undefined,
    index: Object.keys(rec.index).length ? rec.index : undefined,
    values: s.describe(rec.size, rec.scope),
    claimed: rec.claimed,
    actual: rec.actual,
  };
}

export function verifyClaim(claim: Claim, options: VerifyOptions = {}): ClaimResult {
  const section = sections[claim.section];
  if (!section) throw new ClaimsError(`claim ${claim.id}: section "${claim.section}" is unknown`);
  const model = new SectionModel(section);
  const opts = { pointsPerCase: 24, ...options };
  const runner = new ClaimRunner(model, claim, opts);
  // One stream per claim, so adding a claim does not change the points any other claim is judged on.
  const rng = createRng(((opts.seed ?? 1) * 2654435761) ^ hash(claim.id));
  const records = runner.run(claim.mathjs, rng);
  const { failures, maxRelError } = summarise(records);
  const result: ClaimResult = {
    id: claim.id,
    section: claim.section,
    latex: claim.latex,
    quantity: claim.quantity,
    mathjs: claim.mathjs,
    reading: claim.reading,
    note: claim.note,
    verdict: 'holds',
    points: records.length,
    failures: failures.length,
    maxRelError,
  };
  if (failures.length > 0) {
    const found: { text: string; expr: string; exact: boolean }[] = [];
    for (const cond of [...section.conditions, ...(claim.conditions ?? [])]) {
      const fix = imposedAssignment(cond.expr, section.imposable);
      if (fix) {
        const within = runner.run(claim.mathjs, rng, { fix });
        if (within.every((r) => r.ok)) {
          // Sampled values of a continuous variable never equal the constant, so `records` is all outside.
          found.push({ text: cond.text, expr: cond.expr, exact: records.every((r) => !r.ok) });
        }
        continue;
      }
      const inside = records.filter((r) => runner.conditionHolds(cond, r));
      if (inside.length > 0 && inside.every((r) => r.ok)) {
        const outside = records.filter((r) => !inside.includes(r));
        found.push({ text: cond.text, expr: cond.expr, exact: outside.every((r) => !r.ok) });
      }
    }
    found.sort((a, b) => Number(b.exact) - Number(a.exact));
    if (found.length > 0) {
      result.verdict = 'holds-if';
      result.conditions = found;
      result.condition = found.map((c) => (c.exact ? `${c.text} (exactly then)` : c.text)).join('; or ');
    } else {
      result.verdict = 'fails';
    }
    // Small round numbers at the smallest size that fails, and among those the widest miss, so the
    // counterexample can be redone by hand and is not a rounding-level difference.
    const nice = runner.run(claim.mathjs, createRng(hash(claim.id)), { nice: true }).filter((r) => !r.ok);
    const smallest = nice.filter((r) => r.size === nice[0]?.size && sameIndex(r.index, nice[0].index));
    const widest = smallest.reduce<Record_ | undefined>((best, r) => (!best || Math.abs(r.actual - r.claimed) > Math.abs(best.actual - best.claimed) ? r : best), undefined);
    result.counterexample = toCounterexample(model, widest ?? failures[0]);
    if (section.nodes.length === 0) {
      // Without a graph every variable a claim depends on is named in it; list only those.
      const used = new Set([claim.mathjs, claim.corrected?.mathjs ?? ''].flatMap((f) => f.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));
      const values = result.counterexample.values;
      result.counterexample.values = Object.fromEntries(Object.entries(values).filter(([k]) => used.has(k)));
    }
  }
  if (claim.corrected) {
    const corr = runner.run(claim.corrected.mathjs, rng);
    const s = summarise(corr);
    result.corrected = {
      latex: claim.corrected.latex,
      mathjs: claim.corrected.mathjs,
      holds: s.failures.length === 0,
      points: corr.length,
      maxRelError: s.maxRelError,
    };
  }
  return result;
}

/** Judge every claim of a claims file (a path, or the parsed object). */
export function verifyClaims(file: string | ClaimsFile, options: VerifyOptions = {}): ClaimResult[] {
  const claims = typeof file === 'string' ? loadClaims(file) : parseClaims(file);
  return claims.claims.map((c) => verifyClaim(c, options));
}

function sameIndex(a: Record<string, number>, b: Record<string, number>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
