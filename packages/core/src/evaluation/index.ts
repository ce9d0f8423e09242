export * from './ensemble.js';
export * from './evaluate.js';
export * from './metrics.js';
export * from './photos.js';
export * from './predict.js';
