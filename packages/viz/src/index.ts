export * from './render.js';
export * from './plots.js';
export * from './confusion.js';
export * from './images.js';
export * from './evaluation.js';
export * from './saliency.js';
export * from './filters.js';
export * from './report.js';
