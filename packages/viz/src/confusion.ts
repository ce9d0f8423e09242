import type { TopLevelSpec } from 'vega-lite';
import type { ClassificationReport } from '@fer/core';

/**
 * The confusion matrix as a heatmap, true class down, predicted across, with the number in every cell.
 * `normalized` colours and labels each cell by its share of the true class's row (recall on the diagonal).
 */
export function confusionSpec(report: ClassificationReport, normalized: boolean, title?: string): TopLevelSpec {
  const names = report.classes.map((c) => c.name);
  const values = report.confusion.flatMap((row, i) =>
    row.map((count, j) => ({
      true: names[i],
      predicted: names[j],
      count,
      rate: report.confusionNormalized[i][j],
      label: normalized ? `${(100 * report.confusionNormalized[i][j]).toFixed(0)}%` : String(count),
    })),
  );
  const field = normalized ? 'rate' : 'count';
  const max = normalized ? 1 : Math.max(1, ...values.map((v) => v.count));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title ?? (normalized ? 'Confusion matrix (each row sums to 100%)' : 'Confusion matrix (counts)'),
      subtitle: `${report.size} faces, accuracy ${(100 * report.accuracy).toFixed(1)}%`,
    },
    data: { values },
    width: 360,
    height: 360,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: names, title: 'predicted', axis: { labelAngle: -40, orient: 'bottom' } },
      y: { field: 'true', type: 'nominal', sort: names, title: 'true class' },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field,
            type: 'quantitative',
            title: normalized ? 'share of row' : 'faces',
            scale: { scheme: 'blues', domain: [0, max] },
            legend: normalized ? { format: '.0%' } : {},
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 12 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          // dark text on light cells, white on dark ones
          color: { condition: { test: `datum.${field} > ${0.55 * max}`, value: 'white' }, value: '#222' },
        },
      },
    ],
    config: { axis: { grid: false, ticks: false, domain: false } },
  };
}

/** Precision, recall and F1 per class as grouped bars. */
export function classMetricsSpec(report: ClassificationReport): TopLevelSpec {
  const values = report.classes.flatMap((c) => [
    { class: c.name, metric: 'precision', value: c.precision },
    { class: c.name, metric: 'recall', value: c.recall },
    { class: c.name, metric: 'F1', value: c.f1 },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Precision, recall and F1 per class', subtitle: `macro F1 ${report.macro.f1.toFixed(3)}` },
    data: { values },
    width: 420,
    height: 220,
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'nominal', sort: report.classes.map((c) => c.name), title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'metric', sort: ['precision', 'recall', 'F1'] },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'metric', type: 'nominal', sort: ['precision', 'recall', 'F1'], title: null, legend: { orient: 'top' } },
    },
  };
}
