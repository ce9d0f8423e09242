/**
 * The accuracy ablation's chart for docs/training.md: each step from the report's recipe to an ensemble of
 * strong runs, on the test part (the last 3,589 rows of the shared Training split), from torch_ablation.py's
 * summary, with fer's own measured runs as dots.
 *
 *   node --conditions=source --import tsx src/ablation_chart.ts results/torch-ablation-2026-12-04.json \
 *     ../../docs/images/ablation [--fer "strong:67.09,67.15" --fer "strong-tta:67.90" ...]
 *
 * `--fer STEP:A,B`: fer's test-part accuracies (%) for that step (report, augment, sgd-cosine, vgg, strong,
 * strong-tta, ensemble, ensemble-tta), drawn as dots beside PyTorch's bars.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { vegaLiteToSvg, writeSvgAndPng } from '@fer/viz';

interface RunSummary {
  test: { test: number; test_flip: number; test_10crop: number } | null;
}
interface Summary {
  runs: Record<string, RunSummary>;
  ensembles: Record<string, { members: number; plain: number; crop10: number }>;
}

const STEPS: { key: string; label: string; runs: string[] }[] = [
  { key: 'report', label: "report's recipe: seed CNN, Adam 1e-4", runs: ['report'] },
  { key: 'augment', label: '+ crop, flip, rotate, scale', runs: ['augment'] },
  { key: 'sgd-cosine', label: '+ SGD Nesterov, weight decay, cosine', runs: ['sgd-cosine'] },
  { key: 'vgg', label: '+ vgg model', runs: ['vgg'] },
  { key: 'strong', label: '+ label smoothing = strong (3 seeds)', runs: ['strong-s0', 'strong-s1', 'strong-s2'] },
];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { fer: { type: 'string', multiple: true } } });
  const [summaryFile, outBase] = positionals;
  if (!summaryFile || !outBase) throw new Error('usage: ablation_chart.ts SUMMARY.json OUT_BASE [--fer STEP:A,B ...]');
  const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
  const bars: { step: string; order: number; kind: string; accuracy: number }[] = [];
  for (const [i, step] of STEPS.entries()) {
    const tests = step.runs.map((r) => s.runs[r]?.test).filter((t): t is NonNullable<RunSummary['test']> => t != null);
    if (tests.length === 0) continue;
    bars.push({ step: step.label, order: i, kind: 'one model', accuracy: 100 * mean(tests.map((t) => t.test)) });
    bars.push({ step: step.label, order: i, kind: '10-crop TTA', accuracy: 100 * mean(tests.map((t) => t.test_10crop)) });
  }
  const ens = s.ensembles['strong-s*'];
  const ensLabel = `ensemble of ${ens?.members ?? 3} strong runs`;
  if (ens) {
    bars.push({ step: ensLabel, order: STEPS.length, kind: 'one model', accuracy: 100 * ens.plain });
    bars.push({ step: ensLabel, order: STEPS.length, kind: '10-crop TTA', accuracy: 100 * ens.crop10 });
  }
  const dots: { step: string; kind: string; accuracy: number }[] = [];
  for (const f of values.fer ?? []) {
    const [key, list] = f.split(':');
    const tta = key!.endsWith('-tta');
    const base = key!.replace(/-tta$/, '');
    const label = base === 'ensemble' ? ensLabel : STEPS.find((x) => x.key === base)?.label;
    if (!label || !list) throw new Error(`--fer ${f}: expected STEP:A,B with STEP one of ${STEPS.map((x) => x.key).join(', ')}, ensemble (and -tta)`);
    for (const v of list.split(',')) dots.push({ step: label, kind: tta ? '10-crop TTA' : 'one model', accuracy: Number(v) });
  }
  const order = [...STEPS.map((x) => x.label), ensLabel];
  const y = { field: 'step', type: 'nominal' as const, sort: order, title: null, axis: { labelLimit: 320 } };
  const yOffset = { field: 'kind', type: 'nominal' as const, sort: ['one model', '10-crop TTA'] };
  const color = { field: 'kind', type: 'nominal' as const, sort: ['one model', '10-crop TTA'], scale: { range: ['#4c78a8', '#9ecae9'] }, title: 'PyTorch, same split' };
  const x = { field: 'accuracy', type: 'quantitative' as const, scale: { domain: [45, 72] }, title: 'accuracy on the test part (%), 3,589 faces never tuned on' };
  const svg = await vegaLiteToSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'From the report recipe to the strong recipe: what each step adds',
    width: 460,
    config: { legend: { orient: 'bottom', labelLimit: 400, titleLimit: 400 } },
    height: { step: 14 },
    layer: [
      { data: { values: bars }, mark: { type: 'bar', clip: true }, encoding: { y, yOffset, x, color } },
      {
        data: { values: bars },
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { y, yOffset, x, text: { field: 'accuracy', type: 'quantitative', format: '.1f' } },
      },
      ...(dots.length
        ? [
            {
              data: { values: dots.map((d) => ({ ...d, who: 'fer (measured runs)' })) },
              mark: { type: 'point' as const, filled: true, size: 90, color: '#e45756', stroke: '#222', strokeWidth: 0.8, opacity: 1 },
              encoding: { y, yOffset, x, shape: { field: 'who', type: 'nominal' as const, title: null, scale: { range: ['diamond'] } } },
            },
          ]
        : []),
    ],
  } as never);
  const out = await writeSvgAndPng(outBase, svg);
  console.log(`wrote ${out.png} and ${out.svg}`);
}

main().catch((e) => {
  console.error(String(e instanceof Error ? e.message : e));
  process.exit(1);
});
