export * from './render.js';
export * from './plots.js';
