export * from './attribution/index.js';
export * from './filters.js';
export * from './mask-score.js';
export * from './saliency.js';
