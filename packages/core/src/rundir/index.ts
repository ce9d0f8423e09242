export * from './checkpoint.js';
export * from './history.js';
export * from './model-files.js';
export * from './paths.js';
export * from './run-json.js';
export * from './split.js';
