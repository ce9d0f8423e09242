import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  EMOTIONS,
  FerError,
  SALIENCY_METHODS,
  SALIENCY_METHOD_TITLES,
  facesToExplain,
  loadRunModel,
  readHistory,
  readRunJson,
  runPaths,
  runValidationData,
  subset,
  summarizeModel,
  writeFileAtomic,
  type ClassificationReport,
  type FaceDataset,
} from '@fer/core';
import { plotHistory } from './plots.js';
import { evaluateToDir } from './evaluation.js';
import { saliencyToDir } from './saliency.js';
import { filtersToDir } from './filters.js';
import { escapeXml } from './render.js';

export interface ReportOptions {
  /** Make the sections that are missing (evaluation, saliency, filters, plots) before writing the page. */
  compute?: boolean;
  /** Fewer faces and steps, for tests. */
  quick?: boolean;
  onProgress?: (what: string) => void;
}

const esc = escapeXml;

async function dataUri(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  const buf = await readFile(file);
  const type = file.endsWith('.svg') ? 'image/svg+xml' : 'image/png';
  return `data:${type};base64,${buf.toString('base64')}`;
}

async function readJsonIf<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

async function figure(file: string, alt: string, caption?: string): Promise<string> {
  // charts come as SVG beside their PNG: vector, at their own size, and smaller than the 2x PNG
  const svg = file.replace(/\.png$/, '.svg');
  const uri = (await dataUri(svg)) ?? (await dataUri(file));
  if (!uri) return `<p class="missing">${esc(path.basename(file))} is missing: ${esc(alt)} was not made for this run.</p>`;
  return `<figure><img src="${uri}" alt="${esc(alt)}">${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

/** Makes the evaluation, saliency and filter pictures of a run that are not there yet. */
export async function computeMissing(runDir: string, options: ReportOptions = {}): Promise<void> {
  const say = options.onProgress ?? (() => {});
  const model = await loadRunModel(runDir);
  const evalDir = runPaths(runDir).evaluate;
  if (existsSync(path.join(runDir, 'history.json')) && !existsSync(path.join(runDir, 'plots', 'loss.png'))) {
    say('history plots');
    await plotHistory(runDir);
  }
  const needEval = !existsSync(path.join(evalDir, 'evaluation.json'));
  const needSaliency = !existsSync(path.join(runDir, 'saliency', 'vanilla.png'));
  const needFilters = !existsSync(path.join(runDir, 'filters', 'maximized.png'));
  if (!needEval && !needSaliency && !needFilters) return;
  let val: FaceDataset | undefined;
  try {
    const run = await readRunJson(runDir, { optional: true });
    if (!run) throw new FerError(`${runDir} has no run.json to rebuild its validation split from`);
    val = await runValidationData(run.config);
  } catch (e) {
    say(`no validation data (${(e as Error).message}): evaluation and saliency are left out`);
  }
  if (val && needEval) {
    say('evaluation on the validation split');
    await evaluateToDir(model, val, evalDir, { description: `validation split of the run (${val.source}, ${val.size} faces)` });
  }
  if (val && needSaliency) {
    const faces = subset(val, await facesToExplain(model, val));
    await saliencyToDir(model, faces, path.join(runDir, 'saliency'), {
      methods: [...SALIENCY_METHODS],
      scoreData: val,
      scorePerClass: options.quick ? 1 : 5,
      onProgress: (w) => say(`saliency: ${w}`),
    });
  }
  if (needFilters) {
    const face = val?.size ? { pixels: val.pixels.subarray(0, 2304), name: 'validation face 1', label: val.labels[0] } : undefined;
    await filtersToDir(model, path.join(runDir, 'filters'), {
      face,
      maximize: options.quick ? { steps: 8 } : undefined,
      count: options.quick ? 4 : 10,
      onProgress: (w) => say(`filters: ${w}`),
    });
  }
}

const STYLE = `
body{font-family:'DejaVu Sans',system-ui,sans-serif;max-width:1020px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0} img{max-width:100%;height:auto;border:1px solid #eee} figcaption{font-size:.85em;color:#555}
.row{display:flex;flex-wrap:wrap;gap:1em} .row figure{flex:1 1 420px}
.missing{color:#a33} .meta{color:#555;font-size:.9em} code{background:#f4f4f4;padding:0 .2em}`;

/**
 * The homework report reproduced from a run directory: architecture table, history, confusion matrix
 * with its analysis, saliency grids with their scores, and filter pictures, as one self-contained HTML
 * page (every image embedded as a data URI; nothing is fetched). Writes runDir/report.html.
 */
export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<string> {
  if (options.compute !== false) await computeMissing(runDir, options);
  const model = await loadRunModel(runDir);
  const evalDir = runPaths(runDir).evaluate;
  const run = await readRunJson(runDir, { optional: true });
  const name = run?.name ?? path.basename(runDir);
  const summary = summarizeModel(model);
  const history = existsSync(path.join(runDir, 'history.json')) ? await readHistory(runDir) : [];
  const evaluation = await readJsonIf<ClassificationReport & { loss: number; data: string }>(path.join(evalDir, 'evaluation.json'));
  const scores = await readJsonIf<Record<string, number>>(path.join(runDir, 'saliency', 'scores.json'));
  const cfg = run?.config;
  const s: string[] = [];
  s.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  s.push(`<title>fer report: ${esc(name)}</title><style>${STYLE}</style></head><body>`);
  s.push(`<h1>Facial expression recognition: ${esc(name)}</h1>`);
  const meta = [
    cfg?.model && `model <code>${esc(cfg.model)}</code>`,
    cfg?.data && `data ${esc(cfg.data === 'synthetic' ? `synthetic faces (seed ${cfg.synthetic?.seed}, ${cfg.synthetic?.count})` : cfg.data)}`,
    history.length && `${history.length} epochs`,
    run && `backend ${esc(run.backend.name)}`,
  ].filter(Boolean);
  s.push(`<p class="meta">${meta.join(' · ')} · made by <code>fer report</code> on ${new Date().toISOString().slice(0, 10)}</p>`);

  s.push(`<h2>1. Model architecture</h2>`);
  s.push(`<table><thead><tr><th>layer</th><th>type</th><th>output shape</th><th class="num">trainable</th><th class="num">non-trainable</th></tr></thead><tbody>`);
  for (const l of summary.layers) {
    s.push(
      `<tr><td>${esc(l.name)}</td><td>${esc(l.type)}</td><td>(${l.outputShape.map((d) => d ?? 'N').join(', ')})</td><td class="num">${l.trainable.toLocaleString('en-US')}</td><td class="num">${l.nonTrainable.toLocaleString('en-US')}</td></tr>`,
    );
  }
  s.push(
    `</tbody><tfoot><tr><th colspan="3">total</th><th class="num">${summary.trainable.toLocaleString('en-US')}</th><th class="num">${summary.nonTrainable.toLocaleString('en-US')}</th></tr></tfoot></table>`,
  );

  s.push(`<h2>2. Training history</h2>`);
  if (history.length) {
    const last = history[history.length - 1];
    const best = history.reduce((a, b) => (b.val_acc > a.val_acc ? b : a));
    s.push(
      `<p>${cfg?.trainRows ? `${cfg.trainRows} faces train; ` : ''}last epoch: training accuracy ${(100 * last.acc).toFixed(1)}%, validation ${(100 * last.val_acc).toFixed(1)}%; best validation ${(100 * best.val_acc).toFixed(1)}% at epoch ${best.epoch}.</p>`,
    );
    s.push(
      `<div class="row">${await figure(path.join(runDir, 'plots', 'loss.png'), 'loss curves')}${await figure(path.join(runDir, 'plots', 'accuracy.png'), 'accuracy curves')}</div>`,
    );
  } else s.push(`<p class="missing">history.json is missing.</p>`);

  s.push(`<h2>3. Confusion matrix</h2>`);
  if (evaluation) {
    s.push(`<p class="meta">on ${esc(evaluation.data)}</p>`);
    s.push(
      `<div class="row">${await figure(path.join(evalDir, 'confusion_counts.png'), 'confusion matrix, counts')}${await figure(path.join(evalDir, 'confusion_normalized.png'), 'confusion matrix, row-normalised')}</div>`,
    );
    s.push(`<h3>Analysis</h3><ul>${evaluation.summary.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`);
    s.push(`<table><thead><tr><th>class</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">faces</th></tr></thead><tbody>`);
    for (const c of evaluation.classes)
      s.push(
        `<tr><td>${esc(c.name)}</td><td class="num">${c.precision.toFixed(3)}</td><td class="num">${c.recall.toFixed(3)}</td><td class="num">${c.f1.toFixed(3)}</td><td class="num">${c.support}</td></tr>`,
      );
    s.push(`</tbody></table>`);
    s.push(await figure(path.join(evalDir, 'class_metrics.png'), 'per-class precision, recall and F1'));
  } else s.push(`<p class="missing">no evaluation: run <code>fer evaluate --run ${esc(runDir)}</code>.</p>`);

  s.push(`<h2>4. Saliency maps</h2>`);
  s.push(`<p>One face of each class (${EMOTIONS.join(', ')}); each map shows which pixels move the score of the face's class. Bright is important.</p>`);
  if (scores) {
    s.push(
      `<p>Mask score: the share of a map's mass inside the eye, brow and mouth regions of the synthetic faces, divided by those regions' share of the image (1.0 is a map that ignores the face's features).</p>`,
    );
    s.push(
      `<table><thead><tr><th>method</th><th class="num">mask score</th></tr></thead><tbody>${Object.entries(scores)
        .map(([m, v]) => `<tr><td>${esc(SALIENCY_METHOD_TITLES[m as keyof typeof SALIENCY_METHOD_TITLES] ?? m)}</td><td class="num">${v.toFixed(2)}</td></tr>`)
        .join('')}</tbody></table>`,
    );
  } else if (cfg?.data && cfg.data !== 'synthetic') {
    s.push(`<p class="meta">No mask score: it needs the feature masks of the synthetic faces, and this run trained on ${esc(cfg.data)}.</p>`);
  }
  for (const m of SALIENCY_METHODS) {
    if (existsSync(path.join(runDir, 'saliency', `${m}.png`))) s.push(await figure(path.join(runDir, 'saliency', `${m}.png`), `${SALIENCY_METHOD_TITLES[m]} saliency grid`));
  }
  if (!SALIENCY_METHODS.some((m) => existsSync(path.join(runDir, 'saliency', `${m}.png`))))
    s.push(`<p class="missing">no saliency maps: run <code>fer saliency --run ${esc(runDir)}</code>.</p>`);

  s.push(`<h2>5. What the filters respond to</h2>`);
  s.push(await figure(path.join(runDir, 'filters', 'maximized.png'), 'activation maximisation of conv filters'));
  if (existsSync(path.join(runDir, 'filters', 'responses.png'))) s.push(await figure(path.join(runDir, 'filters', 'responses.png'), 'filter responses to one face'));
  s.push(`</body></html>`);
  const file = path.join(runDir, 'report.html');
  await writeFileAtomic(file, s.join('\n'));
  return file;
}
