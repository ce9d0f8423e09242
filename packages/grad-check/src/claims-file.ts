/** The claims file format: reading and validating it needs neither mathjs nor tfjs. */
import { readFileSync } from 'node:fs';
import type { Condition, SectionName } from './sections/types.js';

export const SECTION_NAMES: readonly SectionName[] = ['conv', 'batchnorm', 'softmax'];

export class ClaimsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimsError';
  }
}

export interface Claim {
  id: string;
  section: SectionName;
  /** The report's LaTeX, as written. */
  latex: string;
  /** What the formula is supposed to equal, e.g. `grad(sigma2)` (see template.ts). */
  quantity: string;
  /** The formula, transcribed literally into the template language. */
  mathjs: string;
  /** How an ambiguous piece of the LaTeX was read, and what was probably meant. */
  reading?: string;
  note?: string;
  /** Extra hypotheses to test when the claim does not hold everywhere. */
  conditions?: Condition[];
  corrected?: { latex: string; mathjs: string };
}

export interface ClaimsFile {
  /** Where the formulas were transcribed from. */
  source?: string;
  claims: Claim[];
}

function requireString(obj: Record<string, unknown>, key: string, where: string, optional = false): void {
  const v = obj[key];
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || v.trim() === '') {
    throw new ClaimsError(`${where}: "${key}" must be a non-empty string${optional ? ' when present' : ''}`);
  }
}

/** Checks the shape of a claims file and returns it typed; every message names the claim and the fix. */
export function parseClaims(data: unknown, origin = 'claims'): ClaimsFile {
  if (typeof data !== 'object' || data === null || !Array.isArray((data as ClaimsFile).claims)) {
    throw new ClaimsError(`${origin}: expected an object {"claims": [...]}`);
  }
  const seen = new Set<string>();
  (data as ClaimsFile).claims.forEach((c, j) => {
    const where = `${origin}: claim #${j + 1}${typeof c?.id === 'string' ? ` (${c.id})` : ''}`;
    if (typeof c !== 'object' || c === null) throw new ClaimsError(`${where}: must be an object`);
    const obj = c as unknown as Record<string, unknown>;
    for (const key of ['id', 'latex', 'quantity', 'mathjs']) requireString(obj, key, where);
    for (const key of ['reading', 'note']) requireString(obj, key, where, true);
    if (!SECTION_NAMES.includes(c.section)) {
      throw new ClaimsError(`${where}: section "${String(c.section)}" is unknown; use one of ${SECTION_NAMES.join(', ')}`);
    }
    if (seen.has(c.id)) throw new ClaimsError(`${where}: id "${c.id}" is used twice; ids must be unique`);
    seen.add(c.id);
    if (c.corrected !== undefined) {
      const corr = c.corrected as unknown as Record<string, unknown>;
      if (typeof corr !== 'object' || corr === null) throw new ClaimsError(`${where}: "corrected" must be {latex, mathjs}`);
      requireString(corr, 'latex', `${where} corrected`);
      requireString(corr, 'mathjs', `${where} corrected`);
    }
    if (c.conditions !== undefined) {
      if (!Array.isArray(c.conditions)) throw new ClaimsError(`${where}: "conditions" must be a list of {expr, text}`);
      c.conditions.forEach((cond) => {
        requireString(cond as unknown as Record<string, unknown>, 'expr', `${where} condition`);
        requireString(cond as unknown as Record<string, unknown>, 'text', `${where} condition`);
      });
    }
  });
  return data as ClaimsFile;
}

export function loadClaims(file: string): ClaimsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClaimsError(`cannot read claims file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; pass an existing JSON file`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ClaimsError(`claims file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseClaims(data, file);
}
