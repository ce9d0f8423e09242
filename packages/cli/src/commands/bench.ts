import { BENCH_DEFAULTS, formatBenchTable, runBench } from '@fer/bench';
import { BACKEND_CHOICES, FerError, MODEL_NAMES, type BackendChoice } from '@fer/core';
import type { Command } from '../command.js';
import { choiceFlag, intFlag, numberFlag, parseFlags, userPath } from '../args.js';

export const bench: Command = {
  name: 'bench',
  summary: "training and inference images/s of a model (default the seed CNN) per backend and batch size, beside PyTorch's default and every-core rows when present",
  usage: `usage: fer bench [--model ${MODEL_NAMES.join('|')}] [--json] [--profile] [--ablation] [--batch ${BENCH_DEFAULTS.batches.join(',')}] [--backends wasm,node] [--workers N] [--seconds S] [--rounds N] [--python FILE] [--no-torch]

Measures a model's training (Adam) and inference throughput on each backend that starts here (the pure-JS
cpu backend only when asked for: it trains at under 1 image/s), at each batch size, and the data-loading
speed. Where Python with torch imports (on Debian: apt-get install python3-torch), the same run measures
the same model and batch in PyTorch (torch_bench.py; seed and vgg), twice, right before ours:

  pytorch            torch's default thread count (what \`python train.py\` gets)
  pytorch all cores  torch.set_num_threads(os.cpu_count()): every core, as our data-parallel row uses

and prints every row's throughput as a ratio to each ("vs torch", "vs torch-all"), then per batch size
our best row against both.

  --model NAME  ${MODEL_NAMES.join(', ')} (default seed); PyTorch runs seed and vgg
  --json        print one JSON object instead of the table
  --profile     time per kernel, for one training and one inference step per backend
  --ablation    each of fer's optimisations cumulatively, with its per-kernel profile
  --batch LIST  batch sizes (default ${BENCH_DEFAULTS.batches.join(',')})
  --backends L  comma-separated: ${BACKEND_CHOICES.filter((b) => b !== 'auto').join(', ')}
  --workers N   data-parallel worker threads for the parallel rows (default: the number of cores)
  --seconds S   minimum seconds per measurement (default ${BENCH_DEFAULTS.seconds})
  --rounds N    interleaved rounds of PyTorch and ours; the best of each is kept (default ${BENCH_DEFAULTS.rounds})
  --python FILE the Python that runs the PyTorch reference (default: python3 on PATH)
  --no-torch    skip the PyTorch reference`,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      {
        model: { type: 'string' },
        json: { type: 'boolean' },
        profile: { type: 'boolean' },
        ablation: { type: 'boolean' },
        batch: { type: 'string' },
        backends: { type: 'string' },
        workers: { type: 'string' },
        seconds: { type: 'string' },
        rounds: { type: 'string' },
        python: { type: 'string' },
        'no-torch': { type: 'boolean' },
      },
      'bench',
    );
    const batches = v.batch?.split(',').map((b) => intFlag('batch', b.trim(), 0, 1, 4096));
    const backends = v.backends?.split(',').map((b) => {
      const name = b.trim() as BackendChoice;
      if (!BACKEND_CHOICES.includes(name) || name === 'auto') throw new FerError(`--backends: unknown backend "${b}"`, { hint: 'use node, wasm or cpu' });
      return name;
    });
    const result = await runBench({
      model: choiceFlag('model', v.model, MODEL_NAMES, 'seed'),
      batches,
      backends,
      workers: v.workers === undefined ? undefined : intFlag('workers', v.workers, 0, 0, 64),
      seconds: v.seconds === undefined ? undefined : numberFlag('seconds', v.seconds, BENCH_DEFAULTS.seconds, 0, 600),
      rounds: v.rounds === undefined ? undefined : intFlag('rounds', v.rounds, BENCH_DEFAULTS.rounds, 1, 20),
      torch: v['no-torch'] ? false : v.python ? true : 'auto',
      python: v.python === undefined ? undefined : userPath(v.python),
      profile: v.profile,
      ablation: v.ablation,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(v.json ? JSON.stringify(result, null, 2) : formatBenchTable(result));
    return 0;
  },
};
