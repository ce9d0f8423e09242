/** Renders a VerifyReport for a terminal, as JSON, or as a Markdown page for docs/. */
import type { ClaimResult, Counterexample } from './claims.js';
import { sections } from './sections/index.js';
import type { CheckResult, SectionName } from './sections/types.js';
import type { VerifyReport } from './verify.js';

const ORDER: SectionName[] = ['conv', 'batchnorm', 'softmax'];

export const num = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential(2);
};
const err = (v: number) => (v === 0 ? '0' : Number.isFinite(v) ? v.toExponential(2) : String(v));

const DISPLAY: Record<string, string> = { gamma: 'γ', beta: 'β', eps: 'ε', mu: 'μ', sigma2: 'σ²', dy: '∂ℓ/∂y', c: 'target c' };

/** x_1, x_2 -> x = (1, 3); scalars stay as they are. */
export function formatValues(values: Record<string, number>): string {
  const groups = new Map<string, number[]>();
  const parts: string[] = [];
  for (const [key, v] of Object.entries(values)) {
    const m = /^(.*)_(\d+)$/.exec(key);
    if (m) {
      if (!groups.has(m[1])) {
        groups.set(m[1], []);
        parts.push(`\u0000${m[1]}`);
      }
      groups.get(m[1])![Number(m[2]) - 1] = v;
    } else parts.push(`${DISPLAY[key] ?? key} = ${num(v)}`);
  }
  return parts
    .map((p) => {
      if (!p.startsWith('\u0000')) return p;
      const name = p.slice(1);
      return `${DISPLAY[name] ?? name} = (${groups.get(name)!.map(num).join(', ')})`;
    })
    .join(', ');
}

export function formatCounterexample(c: Counterexample): string {
  const where = [...Object.entries(c.size ?? {}).map(([k, v]) => `${k} = ${v}`), ...Object.entries(c.index ?? {}).map(([k, v]) => `${k} = ${v}`)];
  return `${where.length ? `${where.join(', ')}; ` : ''}${formatValues(c.values)}: the formula gives ${num(c.claimed)}, the definition ${num(c.actual)}`;
}

const verdictText = (c: ClaimResult) => (c.verdict === 'holds' ? 'holds' : c.verdict === 'fails' ? 'fails' : `holds if ${c.condition}`);

interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
}

export function terminalStyle(color: boolean): Style {
  const wrap = (code: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap(1), dim: wrap(2), green: wrap(32), red: wrap(31), yellow: wrap(33) };
}

export function renderTerminal(r: VerifyReport, style: Style = terminalStyle(false)): string {
  const out: string[] = [];
  const mark = (c: ClaimResult) => (c.verdict === 'holds' ? style.green('✓ holds   ') : c.verdict === 'fails' ? style.red('✗ fails   ') : style.yellow('◐ holds if'));
  out.push(style.bold('verify-math: the math section (HW 3) of the homework report, checked against its definitions'));
  out.push(style.dim(`claims from ${r.source}; seed ${r.seed}; tfjs backend ${r.backend}`));
  for (const name of ORDER) {
    const claims = r.claims.filter((c) => c.section === name);
    if (claims.length === 0) continue;
    out.push('', style.bold(`── ${sections[name].title} ──`));
    for (const c of claims) {
      out.push(`${mark(c)} ${style.bold(c.id)}${c.verdict === 'holds-if' ? ` ${c.condition}` : ''}`);
      out.push(`    report:  ${c.latex}`);
      out.push(`    mathjs:  ${c.quantity} = ${c.mathjs}`);
      if (c.reading) out.push(style.dim(`    reading: ${c.reading}`));
      if (c.note) out.push(`    note:    ${c.note}`);
      out.push(style.dim(`    ${c.points} points, ${c.failures} off; max rel. error ${err(c.maxRelError)}`));
      if (c.counterexample) out.push(`    counterexample: ${formatCounterexample(c.counterexample)}`);
      if (c.corrected) {
        const ok = c.corrected.holds ? style.green('holds') : style.red('DOES NOT HOLD');
        out.push(`    corrected: ${c.corrected.latex}`);
        out.push(style.dim(`               ${c.corrected.mathjs}  (${ok}${style.dim(` at ${c.corrected.points} points, max rel. error ${err(c.corrected.maxRelError)})`)}`));
      }
    }
  }
  out.push('', style.bold('── Reference checks: definitions vs textbook formulas ──'));
  for (const c of r.checks) out.push(renderCheckLine(c, style));
  const s = r.summary;
  out.push('');
  out.push(
    style.bold(
      `${r.claims.length} report claims: ${s.holds} hold, ${s.holdsIf} hold under a condition, ${s.fails} fail. ` +
        `${s.checksPassed} of ${s.checksPassed + s.checksFailed} reference checks pass.`,
    ) + style.dim(` (${r.seconds.toFixed(1)} s)`),
  );
  if (!r.ok) out.push(style.red('Some reference checks failed: the verifier itself cannot be trusted on this run.'));
  return `${out.join('\n')}\n`;
}

function renderCheckLine(c: CheckResult, style: Style): string {
  const mark = c.pass ? style.green('PASS') : style.red('FAIL');
  return `${mark} ${c.kind.padEnd(14)} ${c.name}\n       ${style.dim(`${c.sizes}; ${c.points} points; max rel. error ${err(c.maxRelError)} (tolerance ${c.tolerance === 0 ? 'exact' : err(c.tolerance)}); ${c.method}`)}`;
}

export function toJson(r: VerifyReport): string {
  return `${JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

const md = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(r: VerifyReport): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(
    "# The report's math, checked",
    '',
    '<!-- Generated by `pnpm verify-math --markdown docs/math.md`; edit packages/grad-check, not this page. -->',
    '',
    'The homework report ends with a math section (HW 3): the output shape of a convolution, the backward pass of',
    'BatchNorm, and the gradient of softmax + cross-entropy. Every line of it is transcribed, as written, into',
    '`packages/grad-check/src/hw3-claims.json` and judged by `@fer/grad-check` against the definitions themselves:',
    'derivatives of the definitions come from mathjs, and each claim is compared with them at hundreds of sampled',
    'points for every batch size m = 2..6 and class count K = 2..10 (and a grid of 501 convolution settings).',
    '',
    'How to read it:',
    '',
    '- **holds**: the line equals the quantity it claims at every sampled point.',
    '- **holds if C**: it fails in general but holds at every point where C is true; "exactly then" means it fails',
    '  everywhere C is false. The counterexample is a point where C is false.',
    '- **fails**: no tested condition rescues it; the counterexample is a point with small round numbers, at the',
    '  smallest size, where the formula and the definition differ. The corrected formula is checked the same way.',
    '- *reading* says how an ambiguous piece of LaTeX was taken (the literal reading is the one judged) and what',
    '  was probably meant. In the mathjs forms `d(a, v)` is the local partial ∂a/∂v of a chain-rule factor, `grad(v)`',
    '  is ∂ℓ/∂v through every path (the values the report substitutes, 代入前值), `dy_k` is ∂ℓ/∂y_k, `sum(k, …)` is',
    '  Σ over k = 1..m, `x[k]` is x_k, and the batch statistics μ, σ² are evaluated at the batch, as in training.',
    '- The **reference checks** at the end must all pass for the verdicts to count: they test the definitions',
    '  against textbook formulas symbolically, with float64 finite differences, and against tfjs autodiff (the same',
    '  function and the real `tf.layers.batchNormalization` / `tf.losses.softmaxCrossEntropy` / `tf.conv2d`).',
    '  Relative errors are taken against the larger of the two values and the size of the terms the formula adds',
    '  up, so that cancellation (BatchNorm with m = 2) measures the formula, not rounding.',
    '',
  );
  out.push('## Verdicts', '');
  out.push(
    `${r.claims.length} formulas of the report: **${s.holds} hold**, **${s.holdsIf} hold under a condition**, **${s.fails} fail**. ` +
      `${s.checksPassed} of ${s.checksPassed + s.checksFailed} reference checks pass. ` +
      `Claims from \`${r.source}\`, seed ${r.seed}, tfjs backend \`${r.backend}\`.`,
    '',
    '| claim | verdict | counterexample |',
    '|---|---|---|',
  );
  for (const c of r.claims) {
    out.push(`| [${c.id}](#${c.id}) | ${md(verdictText(c))} | ${c.counterexample ? md(formatCounterexample(c.counterexample)) : ''} |`);
  }
  for (const name of ORDER) {
    const claims = r.claims.filter((c) => c.section === name);
    if (claims.length === 0) continue;
    out.push('', `## ${sections[name].title}`, '');
    for (const c of claims) {
      out.push(`### ${c.id}`, '', `**${verdictText(c)}**`, '', '$$', c.latex, '$$', '');
      out.push(`- mathjs: \`${c.quantity} = ${c.mathjs}\``);
      if (c.reading) out.push(`- reading: ${c.reading}`);
      if (c.note) out.push(`- note: ${c.note}`);
      out.push(`- ${c.points} points, ${c.failures} off; max relative error ${err(c.maxRelError)}`);
      if (c.counterexample) out.push(`- counterexample: ${formatCounterexample(c.counterexample)}`);
      if (c.corrected) {
        out.push(
          `- corrected (${c.corrected.holds ? 'holds' : '**does not hold**'} at ${c.corrected.points} points): \`${c.corrected.mathjs}\``,
          '',
          '$$',
          c.corrected.latex,
          '$$',
        );
      }
      out.push('');
    }
  }
  out.push('## Reference checks', '', '| pass | kind | check | sizes | points | max rel. error | tolerance | method |', '|---|---|---|---|---|---|---|---|');
  for (const c of r.checks) {
    out.push(
      `| ${c.pass ? '✓' : '✗'} | ${c.kind} | ${md(c.name)} | ${md(c.sizes)} | ${c.points} | ${err(c.maxRelError)} | ${c.tolerance === 0 ? 'exact' : err(c.tolerance)} | ${md(c.method)} |`,
    );
  }
  return `${out.join('\n')}\n`;
}
