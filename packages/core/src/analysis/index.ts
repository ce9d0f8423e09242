export * from './metrics.js';
export * from './predict.js';
export * from './mask-score.js';
export * from './filters.js';
export * from './run-data.js';
export * from './attribution/index.js';
