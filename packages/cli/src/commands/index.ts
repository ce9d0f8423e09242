import type { Command } from '../command.js';
import { train } from './train.js';
import { summary } from './summary.js';
import { evaluate } from './evaluate.js';
import { predict } from './predict.js';
import { saliency } from './saliency.js';
import { filters } from './filters.js';
import { report } from './report.js';
import { bench } from './bench.js';
import { serve } from './serve.js';
import { exportWeb } from './export-web.js';

/** Every `fer` command, in the order `fer --help` lists them. */
export const COMMANDS: Command[] = [train, evaluate, predict, saliency, filters, report, serve, exportWeb, summary, bench];
