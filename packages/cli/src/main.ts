import { isFerError } from '@fer/core';
import { COMMANDS } from './commands/index.js';

export function helpText(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'fer: facial-expression recognition on FER2013 (the NTU ML homework CNN, in TypeScript)',
    '',
    'usage: fer <command> [flags]      (from the repo: pnpm fer <command> [flags])',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'fer <command> --help shows its flags.',
  ].join('\n');
}

/** Runs the CLI; returns the exit code. User errors print without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    console.log(createRequire(import.meta.url)('../package.json').version);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`fer: unknown command "${name}"\n\n${helpText()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.execute(rest);
  } catch (e) {
    if (isFerError(e)) {
      console.error(`\nfer ${name}: error: ${e.message}`);
      if (e.hint) console.error(`  fix: ${e.hint}`);
      return e.exitCode;
    }
    throw e;
  }
}
