/**
 * `fer bench` without the CLI: node --conditions=source --import tsx packages/core/bench/run.ts
 *   [--json] [--profile] [--ablation] [--batches 32,64,128] [--seconds 2] [--rounds 2] [--workers 2] [--no-torch] [--backends wasm,cpu]
 * The table goes to stdout (or one JSON object with --json); progress to stderr.
 */
import { formatBenchTable, runBench, type BenchOptions } from '../src/bench.js';
import type { BackendChoice } from '../src/backend.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const opts: BenchOptions = {
  profile: flag('profile'),
  ablation: flag('ablation'),
  torch: flag('no-torch') ? false : 'auto',
  log: (line) => process.stderr.write(`${line}\n`),
};
if (value('batches')) opts.batches = value('batches')!.split(',').map(Number);
if (value('seconds')) opts.seconds = Number(value('seconds'));
if (value('rounds')) opts.rounds = Number(value('rounds'));
if (value('workers')) opts.workers = Number(value('workers'));
if (value('backends')) opts.backends = value('backends')!.split(',') as BackendChoice[];
const result = await runBench(opts);
process.stdout.write(flag('json') ? `${JSON.stringify(result)}\n` : `${formatBenchTable(result)}\n`);
