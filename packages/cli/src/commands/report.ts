import { writeReport } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, parseFlags, runDirFlag } from '../args.js';

const USAGE = `usage: fer report --run DIR [--only-existing]

One self-contained HTML page (DIR/report.html; every image embedded, nothing fetched) reproducing the
homework report from a run: architecture table, training history, confusion matrix and its analysis,
saliency maps with their scores, and filter pictures. Sections not made yet (fer evaluate, saliency,
filters) are made first with their defaults.

  --run DIR           a run directory from \`fer train\`
  --only-existing     do not compute missing sections; show what is there
  --backend NAME      auto (default), node, wasm or cpu`;

export const report: Command = {
  name: 'report',
  summary: 'one self-contained HTML page: the homework report reproduced from a run',
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(argv, { run: { type: 'string' }, 'only-existing': { type: 'boolean' }, backend: { type: 'string' } }, 'report');
    const runDir = runDirFlag(v.run, 'fer report --run runs/viz-seed');
    const backend = await backendFlag(v.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);
    const t0 = performance.now();
    const file = await writeReport(runDir, { compute: !v['only-existing'], onProgress: (w) => console.log(`  ${w}...`) });
    console.log(`wrote ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  },
};
