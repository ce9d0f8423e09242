import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BACKEND_CHOICES, FerError, selectBackend } from '@fer/core';

/** Paths on the command line are relative to where the user typed `pnpm fer`, not to the repo root. */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

export function intFlag(name: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new FerError(`--${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'} (got "${value}")`);
  }
  return n;
}

export function numberFlag(name: string, value: string | undefined, fallback: number, minExclusive: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= minExclusive || n > max) throw new FerError(`--${name} must be a number above ${minExclusive} and at most ${max} (got "${value}")`);
  return n;
}

export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw new FerError(`--${name} must be one of ${choices.join(', ')} (got "${value}")`);
  return value as T;
}

/** --run DIR, required by the commands that read a trained run: the directory as the user meant it. */
export function runDirFlag(value: string | undefined, example: string): string {
  if (!value) throw new FerError('--run DIR is required', { hint: `e.g. ${example}` });
  return userPath(value);
}

/** Starts the backend that --backend names (auto when absent). */
export function backendFlag(value: string | undefined): ReturnType<typeof selectBackend> {
  return selectBackend(choiceFlag('backend', value, BACKEND_CHOICES, 'auto'));
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type HelpFlag = { help: { type: 'boolean'; short: 'h' } };

/** util.parseArgs, with its errors turned into FerErrors that point at --help. */
export function parseFlags<T extends FlagOptions>(
  argv: string[],
  options: T,
  command: string,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T & HelpFlag; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } } as T & HelpFlag, allowPositionals, strict: true });
  } catch (e) {
    throw new FerError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`, { hint: `see \`fer ${command} --help\`` });
  }
}
