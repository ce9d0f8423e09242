export * from './detect.js';
export * from './crop.js';
export * from './faces.js';
