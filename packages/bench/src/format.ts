import { formatKernelProfile } from '@fer/core';
import type { BenchResult } from './bench.js';
import type { TorchRow } from './torch.js';

const f1 = (v: number) => v.toFixed(1);

const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}x` : '');

/**
 * The result as a plain-text table: every row's ratios to PyTorch at the same batch, at its default thread
 * count and with every core where they ran, then per batch size our best row against each.
 */
export function formatBenchTable(r: BenchResult): string {
  const torch = new Map((r.torch ?? []).map((t) => [t.batch, t]));
  const torchAll = new Map((r.torchAllCores ?? []).map((t) => [t.batch, t]));
  const hasAll = torchAll.size > 0;
  const ratioHead = [...(r.torch ? ['train vs torch', 'infer vs torch'] : []), ...(hasAll ? ['train vs torch-all', 'infer vs torch-all'] : [])];
  const head = ['backend', 'workers', 'batch', 'train img/s', 'infer img/s', ...ratioHead];
  const rows: string[][] = [];
  const row = (name: string, workers: number | undefined, x: { batch: number; trainImagesPerSec: number; inferImagesPerSec: number }) => {
    const t = torch.get(x.batch);
    const ta = torchAll.get(x.batch);
    rows.push([
      name,
      String(workers ?? ''),
      String(x.batch),
      f1(x.trainImagesPerSec),
      f1(x.inferImagesPerSec),
      ...(r.torch ? [ratio(x.trainImagesPerSec, t?.trainImagesPerSec), ratio(x.inferImagesPerSec, t?.inferImagesPerSec)] : []),
      ...(hasAll ? [ratio(x.trainImagesPerSec, ta?.trainImagesPerSec), ratio(x.inferImagesPerSec, ta?.inferImagesPerSec)] : []),
    ]);
  };
  const torchName = `pytorch ${r.versions.torch ?? ''}`.trim();
  for (const t of r.torch ?? []) row(torchName, t.threads ?? r.torchThreads, t);
  for (const t of r.torchAllCores ?? []) row(`${torchName} all cores`, t.threads ?? r.torchAllCoresThreads, t);
  for (const x of r.results) row(x.backend, x.workers, x);
  // by batch; within a batch PyTorch first (default, then every core), then ours in measured order
  const order = new Map(rows.map((row, i) => [row, i]));
  rows.sort((a, b) => Number(a[2]) - Number(b[2]) || order.get(a)! - order.get(b)!);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const lines = [
    `${r.model ?? 'seed'} model throughput, ${r.machine.cpu}, ${r.machine.cores} cores, load ${r.machine.loadAverage.start.map(f1).join(' ')} -> ${r.machine.loadAverage.end.map(f1).join(' ')}, ${r.date}`,
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    fmt(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
  ];
  if (r.torch?.length) {
    const threads = (t: TorchRow | undefined, fallback: number | undefined) => `${t?.threads ?? fallback ?? '?'} thread${(t?.threads ?? fallback) === 1 ? '' : 's'}`;
    for (const batch of [...new Set(r.results.map((x) => x.batch))]) {
      const t = torch.get(batch);
      const ta = torchAll.get(batch);
      const mine = r.results.filter((x) => x.batch === batch);
      if (!t || !mine.length) continue;
      const top = mine.reduce((a, b) => (b.trainImagesPerSec > a.trainImagesPerSec ? b : a));
      const vs = (label: string, ref: TorchRow) =>
        `${ratio(top.trainImagesPerSec, ref.trainImagesPerSec)} train / ${ratio(top.inferImagesPerSec, ref.inferImagesPerSec)} infer vs PyTorch ${label}`;
      lines.push(
        `batch ${batch}: ours at best (${top.backend}, ${top.workers} worker${top.workers === 1 ? '' : 's'}): ${vs(`default (${threads(t, r.torchThreads)})`, t)}${ta ? `; ${vs(`with every core (${threads(ta, r.torchAllCoresThreads)})`, ta)}` : ''}`,
      );
    }
  }
  if (r.torchSkipped) lines.push(`pytorch reference skipped: ${r.torchSkipped}`);
  if (r.dataLoading)
    lines.push(
      `data loading: CSV parse ${Math.round(r.dataLoading.csvRowsPerSec).toLocaleString('en-US')} rows/s, batch assembly ${Math.round(r.dataLoading.batchImagesPerSec).toLocaleString('en-US')} images/s`,
    );
  if (r.ablation?.length) {
    const t = torch.get(r.ablation[0].batch);
    lines.push('', `each optimisation, cumulative (${r.model ?? 'seed'}, wasm, one thread, batch ${r.ablation[0].batch}${t ? ", ratio to PyTorch's default at that batch" : ''}):`);
    for (const a of r.ablation) {
      const rel = t ? `  ${ratio(a.trainImagesPerSec, t.trainImagesPerSec)} / ${ratio(a.inferImagesPerSec, t.inferImagesPerSec)}` : '';
      lines.push(`  ${a.stage.padEnd(58)} train ${f1(a.trainImagesPerSec).padStart(6)}  infer ${f1(a.inferImagesPerSec).padStart(6)} img/s${rel}`);
      lines.push(`    top kernels (ms/step): ${a.top.map((k) => `${k.kernel} ${k.ms.toFixed(0)}`).join(', ')}`);
    }
  }
  for (const p of r.profile ?? []) {
    lines.push(
      '',
      `per-kernel time, ${r.model ?? 'seed'}, ${p.backend}, one thread, batch ${p.batch}: training step`,
      formatKernelProfile(p.train, 1, 20),
      '',
      `inference (one batch)`,
      formatKernelProfile(p.infer, 1, 8),
    );
  }
  return lines.join('\n');
}
