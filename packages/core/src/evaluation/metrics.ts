import { EMOTIONS, NUM_CLASSES } from '../classes.js';

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** True examples of the class. */
  support: number;
}

export interface ConfusedPair {
  trueClass: string;
  predicted: string;
  count: number;
  /** Share of the true class's examples that went to `predicted` (the row-normalised cell). */
  rate: number;
}

export interface ClassificationReport {
  size: number;
  accuracy: number;
  classes: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Each row divided by its sum (0 where a class has no examples). */
  confusionNormalized: number[][];
  /** Off-diagonal cells, worst first by rate. */
  mostConfused: ConfusedPair[];
  /** The analysis in words. */
  summary: string[];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** Per-class precision, recall and F1, averages, the row-normalised matrix and its worst cells. */
export function classificationReport(confusion: number[][], classNames: readonly string[] = EMOTIONS): ClassificationReport {
  const k = confusion.length;
  const rowSums = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const colSums = Array.from({ length: k }, (_, j) => confusion.reduce((s, r) => s + r[j], 0));
  const size = rowSums.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((s, r, i) => s + r[i], 0);
  const classes: ClassMetrics[] = confusion.map((r, i) => {
    const precision = ratio(r[i], colSums[i]);
    const recall = ratio(r[i], rowSums[i]);
    return { name: classNames[i] ?? String(i), precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: rowSums[i] };
  });
  const present = classes.filter((c) => c.support > 0);
  const mean = (f: (c: ClassMetrics) => number) =>
    ratio(
      present.reduce((s, c) => s + f(c), 0),
      present.length,
    );
  const wmean = (f: (c: ClassMetrics) => number) =>
    ratio(
      classes.reduce((s, c) => s + f(c) * c.support, 0),
      size,
    );
  const confusionNormalized = confusion.map((r, i) => r.map((v) => ratio(v, rowSums[i])));
  const mostConfused: ConfusedPair[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (i !== j && confusion[i][j] > 0) mostConfused.push({ trueClass: classes[i].name, predicted: classes[j].name, count: confusion[i][j], rate: confusionNormalized[i][j] });
    }
  }
  mostConfused.sort((a, b) => b.rate - a.rate || b.count - a.count);
  const report: ClassificationReport = {
    size,
    accuracy: ratio(correct, size),
    classes,
    macro: { precision: mean((c) => c.precision), recall: mean((c) => c.recall), f1: mean((c) => c.f1) },
    weighted: { precision: wmean((c) => c.precision), recall: wmean((c) => c.recall), f1: wmean((c) => c.f1) },
    confusion,
    confusionNormalized,
    mostConfused,
    summary: [],
  };
  report.summary = describeConfusion(report);
  return report;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const NEGATIVE = new Set(['angry', 'disgust', 'fear', 'sad']);

/**
 * The report's confusion-matrix analysis, made from the numbers: which classes are recognised best and
 * worst, which pairs are confused most, whether negative emotions are mistaken for each other, and
 * which classes act as sinks that absorb others' mistakes (the report found neutral and sad).
 */
export function describeConfusion(r: Omit<ClassificationReport, 'summary'>): string[] {
  const lines: string[] = [];
  if (r.size === 0) return ['no labelled examples to analyse'];
  lines.push(`accuracy ${pct(r.accuracy)} on ${r.size} faces; macro F1 ${r.macro.f1.toFixed(3)}.`);
  const present = r.classes.filter((c) => c.support > 0);
  const byRecall = [...present].sort((a, b) => b.recall - a.recall);
  if (byRecall.length >= 2) {
    const best = byRecall[0];
    const worst = byRecall[byRecall.length - 1];
    lines.push(`best recognised: ${best.name} (recall ${pct(best.recall)}); worst: ${worst.name} (recall ${pct(worst.recall)}, ${worst.support} faces).`);
  }
  const top = r.mostConfused.slice(0, 3);
  if (top.length) {
    lines.push(
      `most confused: ${top.map((p) => `${p.trueClass} taken for ${p.predicted} (${pct(p.rate)} of ${p.trueClass}, ${p.count} face${p.count === 1 ? '' : 's'})`).join('; ')}.`,
    );
  } else {
    lines.push('no class was confused with another.');
  }
  const errors = r.mostConfused.reduce((s, p) => s + p.count, 0);
  if (errors > 0) {
    const negToNeg = r.mostConfused.filter((p) => NEGATIVE.has(p.trueClass) && NEGATIVE.has(p.predicted)).reduce((s, p) => s + p.count, 0);
    const negErrors = r.mostConfused.filter((p) => NEGATIVE.has(p.trueClass)).reduce((s, p) => s + p.count, 0);
    if (negErrors > 0) {
      lines.push(`of the mistakes on negative faces (angry, disgust, fear, sad), ${pct(negToNeg / negErrors)} went to another negative emotion.`);
    }
    const received = r.classes.map((c, j) => ({ name: c.name, count: r.confusion.reduce((s, row, i) => s + (i === j ? 0 : row[j]), 0) }));
    received.sort((a, b) => b.count - a.count);
    const sinks = received.filter((x) => x.count > 0).slice(0, 2);
    lines.push(`classes that absorb most wrong predictions: ${sinks.map((s) => `${s.name} (${pct(s.count / errors)} of all errors)`).join(', ')}.`);
  }
  return lines;
}

/** Confusion counts from predicted and true class indices (labels < 0 are ignored). */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, classes = NUM_CLASSES): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) m[labels[i]][predicted[i]]++;
  return m;
}

/** The most likely class of each row of an N x classes matrix of probabilities or logits. */
export function argmaxRows(probs: Float32Array, classes = NUM_CLASSES): Int32Array {
  const n = probs.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

export interface Evaluation {
  size: number;
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/** Mean cross-entropy, accuracy and the confusion matrix of probabilities against labels. */
export function scorePredictions(probs: Float32Array, labels: Int8Array): Evaluation {
  const n = labels.length;
  const predicted = argmaxRows(probs);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (y < 0) continue;
    loss -= Math.log(Math.max(probs[i * NUM_CLASSES + y], 1e-12));
    if (predicted[i] === y) correct++;
  }
  return { size: n, loss: loss / Math.max(1, n), accuracy: correct / Math.max(1, n), confusion: confusionMatrix(predicted, labels) };
}
