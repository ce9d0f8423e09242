/**
 * One run of the verifier: the report's claims judged, the reference checks run, and each claim's
 * corrected formula checked like a reference (a correction that is itself wrong is our bug).
 */
import builtinClaims from './hw3-claims.json';
import { runReferenceChecks, type CheckOptions } from './checks.js';
import { loadClaims, parseClaims, verifyClaims, type ClaimResult, type ClaimsFile } from './claims.js';
import { sections } from './sections/index.js';
import type { CheckResult, SectionName } from './sections/types.js';

export interface VerifyReport {
  source: string;
  seed: number;
  seconds: number;
  backend: string;
  claims: ClaimResult[];
  checks: CheckResult[];
  summary: { holds: number; holdsIf: number; fails: number; checksPassed: number; checksFailed: number };
  /** Every reference check passed (the report's own mistakes do not count). */
  ok: boolean;
}

export interface RunOptions extends CheckOptions {
  /** A claims file path or object; the report's HW 3 claims by default. */
  claims?: string | ClaimsFile;
}

export const hw3Claims = builtinClaims as ClaimsFile;

export function sizesText(name: SectionName, sizes?: number[]): string {
  const s = sections[name].size;
  if (!s) return 'grid';
  const v = sizes ?? s.values;
  return `${s.symbol} = ${v[0]}..${v[v.length - 1]}`;
}

export async function runVerifier(options: RunOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  const seed = options.seed ?? 1;
  const file = options.claims ?? hw3Claims;
  const checks = await runReferenceChecks({ ...options, seed });
  const chosen = options.sections;
  const all = typeof file === 'string' ? loadClaims(file) : parseClaims(file);
  const claims = verifyClaims({ ...all, claims: all.claims.filter((c) => !chosen || chosen.includes(c.section)) }, { seed, sizes: options.sizes });
  for (const c of claims) {
    if (!c.corrected) continue;
    checks.push({
      name: `${c.id}: corrected formula = ${c.quantity}`,
      kind: 'correction',
      section: c.section,
      sizes: sizesText(c.section, options.sizes?.[c.section]),
      points: c.corrected.points,
      maxRelError: c.corrected.maxRelError,
      tolerance: 1e-8,
      pass: c.corrected.holds,
      method: "both sides at the claim's sample points",
      formula: c.corrected.mathjs,
    });
  }
  const summary = {
    holds: claims.filter((c) => c.verdict === 'holds').length,
    holdsIf: claims.filter((c) => c.verdict === 'holds-if').length,
    fails: claims.filter((c) => c.verdict === 'fails').length,
    checksPassed: checks.filter((c) => c.pass).length,
    checksFailed: checks.filter((c) => !c.pass).length,
  };
  const { tf } = await import('./tf.js');
  return {
    source: typeof file === 'string' ? file : (file.source ?? 'claims object'),
    seed,
    seconds: (performance.now() - started) / 1000,
    backend: tf.getBackend(),
    claims,
    checks,
    summary,
    ok: summary.checksFailed === 0,
  };
}
