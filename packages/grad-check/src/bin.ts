#!/usr/bin/env node
/**
 * `pnpm verify-math`: which formulas of the report's math section hold, which do not, and why.
 * Exit 0 when every reference check passes (a wrong line in the report is a finding, not a failure);
 * 1 when a reference check fails, or with --strict when any report claim fails; 2 on a usage error.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClaimsError, loadClaims, SECTION_NAMES } from './claims-file.js';
import type { SectionName } from './sections/types.js';

const HELP = `Usage: pnpm verify-math [options]

Checks the math section of the homework report (convolution shapes, BatchNorm backward, softmax +
cross-entropy) symbolically (mathjs), with float64 finite differences and against tfjs autodiff.

Options:
  --json             print the full result as JSON instead of the readable report
  --markdown FILE    also write the result as a Markdown page (e.g. docs/math.md)
  --strict           exit 1 when any report claim fails (holds-if claims do not count as failing)
  --claims FILE      judge the claims in FILE (same JSON shape as src/hw3-claims.json)
  --sections LIST    only these sections, comma-separated: conv, batchnorm, softmax (default all)
  --seed N           seed for the sampled points (default 1)
  -h, --help         show this help
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const config = {
    args: argv,
    options: {
      json: { type: 'boolean' },
      markdown: { type: 'string' },
      strict: { type: 'boolean' },
      claims: { type: 'string' },
      seed: { type: 'string' },
      sections: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  } as const;
  let values: ReturnType<typeof parseArgs<typeof config>>['values'];
  try {
    ({ values } = parseArgs(config));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun with --help for the options.`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let seed = 1;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`);
  }
  let sections: SectionName[] | undefined;
  if (values.sections !== undefined) {
    const names = values.sections
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !SECTION_NAMES.includes(n as SectionName));
    if (names.length === 0 || unknown.length > 0) {
      throw new UsageError(`--sections: unknown section "${unknown[0] ?? ''}"; use a comma-separated list of ${SECTION_NAMES.join(', ')}`);
    }
    sections = names as SectionName[];
  }
  // Load before the seconds of checks, so a bad claims file is reported at once.
  const claims = values.claims ? loadClaims(values.claims) : undefined;
  // tfjs takes seconds to load; usage errors above are answered without it.
  const { tf } = await import('./tf.js');
  const { runVerifier } = await import('./verify.js');
  const { renderMarkdown, renderTerminal, terminalStyle, toJson } = await import('./report.js');
  // The cpu backend's "install tfjs-node" advice is noise here: the checks need float32 cpu on purpose.
  tf.env().set('PROD', true);
  const report = await runVerifier({ seed, claims: claims ?? undefined, sections });
  if (values.claims) report.source = values.claims;
  if (values.markdown) {
    try {
      writeFileSync(values.markdown, renderMarkdown(report));
    } catch (err) {
      throw new UsageError(`cannot write --markdown ${values.markdown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check that its folder exists`);
    }
  }
  if (values.json) process.stdout.write(toJson(report));
  else {
    const color = process.stdout.isTTY && !process.env.NO_COLOR;
    process.stdout.write(renderTerminal(report, terminalStyle(Boolean(color))));
    if (values.markdown) process.stdout.write(`Wrote ${values.markdown}\n`);
  }
  if (!report.ok) return 1;
  if (values.strict && report.summary.fails > 0) {
    if (!values.json) process.stdout.write(`--strict: ${report.summary.fails} report claims fail.\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ClaimsError) {
      process.stderr.write(`verify-math: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  },
);
