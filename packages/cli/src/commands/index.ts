import type { Command } from '../command.js';
import { train } from './train.js';
import { summary } from './summary.js';

/** Every `fer` command, in the order `fer --help` lists them. */
export const COMMANDS: Command[] = [train, summary];
