/** A `fer` sub-command: one file in commands/, listed in commands/index.ts. */
export interface Command {
  name: string;
  /** One line for `fer --help`. */
  summary: string;
  /** Full usage text for `fer <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; returns the exit code. */
  execute(argv: string[]): Promise<number>;
}
