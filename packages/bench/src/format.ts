import { formatKernelProfile } from '@fer/core';
import type { BenchResult } from './bench.js';

const f1 = (v: number) => v.toFixed(1);

/** The result as a plain-text table (ratios to PyTorch at the same batch where it ran). */
export function formatBenchTable(r: BenchResult): string {
  const torch = new Map((r.torch ?? []).map((t) => [t.batch, t]));
  const head = ['backend', 'workers', 'batch', 'train img/s', 'infer img/s', ...(r.torch ? ['train vs torch', 'infer vs torch'] : [])];
  const rows: string[][] = [];
  for (const t of r.torch ?? [])
    rows.push([
      `pytorch ${r.versions.torch ?? ''}`.trim(),
      String(r.torchThreads ?? ''),
      String(t.batch),
      f1(t.trainImagesPerSec),
      f1(t.inferImagesPerSec),
      ...(r.torch ? ['1.00x', '1.00x'] : []),
    ]);
  for (const x of r.results) {
    const t = torch.get(x.batch);
    rows.push([
      x.backend,
      String(x.workers),
      String(x.batch),
      f1(x.trainImagesPerSec),
      f1(x.inferImagesPerSec),
      ...(r.torch ? [t ? `${(x.trainImagesPerSec / t.trainImagesPerSec).toFixed(2)}x` : '', t ? `${(x.inferImagesPerSec / t.inferImagesPerSec).toFixed(2)}x` : ''] : []),
    ]);
  }
  rows.sort((a, b) => Number(a[2]) - Number(b[2]));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i >= 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const lines = [
    `seed CNN throughput, ${r.machine.cpu}, ${r.machine.cores} cores, load ${r.machine.loadAverage.start.map(f1).join(' ')} -> ${r.machine.loadAverage.end.map(f1).join(' ')}, ${r.date}`,
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    fmt(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmt),
  ];
  if (r.torchSkipped) lines.push(`pytorch reference skipped: ${r.torchSkipped}`);
  if (r.dataLoading)
    lines.push(
      `data loading: CSV parse ${Math.round(r.dataLoading.csvRowsPerSec).toLocaleString('en-US')} rows/s, batch assembly ${Math.round(r.dataLoading.batchImagesPerSec).toLocaleString('en-US')} images/s`,
    );
  if (r.ablation?.length) {
    const t = torch.get(r.ablation[0].batch);
    lines.push('', `each optimisation, cumulative (wasm, one thread, batch ${r.ablation[0].batch}${t ? ', ratio to PyTorch at that batch' : ''}):`);
    for (const a of r.ablation) {
      const ratio = t ? `  ${(a.trainImagesPerSec / t.trainImagesPerSec).toFixed(2)}x / ${(a.inferImagesPerSec / t.inferImagesPerSec).toFixed(2)}x` : '';
      lines.push(`  ${a.stage.padEnd(58)} train ${f1(a.trainImagesPerSec).padStart(6)}  infer ${f1(a.inferImagesPerSec).padStart(6)} img/s${ratio}`);
      lines.push(`    top kernels (ms/step): ${a.top.map((k) => `${k.kernel} ${k.ms.toFixed(0)}`).join(', ')}`);
    }
  }
  for (const p of r.profile ?? []) {
    lines.push(
      '',
      `per-kernel time, ${p.backend}, one thread, batch ${p.batch}: training step`,
      formatKernelProfile(p.train, 1, 20),
      '',
      `inference (one batch)`,
      formatKernelProfile(p.infer, 1, 8),
    );
  }
  return lines.join('\n');
}
