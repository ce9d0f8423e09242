/**
 * An error the user can cause and fix: bad input, a wrong path, a flag out of range.
 * The CLI prints `message` (and `hint`) without a stack trace and exits non-zero.
 */
export class FerError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

export function isFerError(e: unknown): e is FerError {
  return e instanceof Error && e.name === 'FerError';
}
