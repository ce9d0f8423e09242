import path from 'node:path';

/** Where each part of a run directory lives (`fer train --out DIR`); docs/architecture.md shows the tree. */
export function runPaths(runDir: string) {
  return {
    runJson: path.join(runDir, 'run.json'),
    history: path.join(runDir, 'history.json'),
    historyCsv: path.join(runDir, 'history.csv'),
    /** The latest weights as a plain TensorFlow.js layers model. */
    model: path.join(runDir, 'model'),
    /** Weights, optimizer state and training state, to resume from. */
    last: path.join(runDir, 'checkpoints', 'last'),
    /** The same, at the epoch of the best validation accuracy. */
    best: path.join(runDir, 'checkpoints', 'best'),
    plots: path.join(runDir, 'plots'),
    /** The run's own evaluation (plain, one model, its validation split): what `fer report` shows. */
    evaluate: path.join(runDir, 'evaluate'),
    saliency: path.join(runDir, 'saliency'),
    filters: path.join(runDir, 'filters'),
    report: path.join(runDir, 'report.html'),
    /** Distillation: the teachers' probabilities on each training face, float32, 7 per face (train --teacher). */
    teacher: path.join(runDir, 'teacher.bin'),
  };
}

/**
 * Where `fer evaluate` writes without --out, inside the first run's directory: `evaluate` (runPaths' own, what
 * `fer report` shows) or `evaluate-test` with `testPart`, with `-ensemble-N` for N runs and `-tta` with `tta`, so
 * that an ensemble's or a TTA evaluation never replaces the run's plain one.
 */
export function evaluationDir(runDir: string, options: { testPart?: boolean; runs?: number; tta?: boolean } = {}): string {
  const runs = options.runs ?? 1;
  return path.join(runDir, `evaluate${options.testPart ? '-test' : ''}${runs > 1 ? `-ensemble-${runs}` : ''}${options.tta ? '-tta' : ''}`);
}
