export * from './render.js';
export * from './plots.js';
export * from './confusion.js';
export * from './images.js';
export * from './evaluate-run.js';
export * from './saliency-run.js';
export * from './filters-run.js';
export * from './report.js';
