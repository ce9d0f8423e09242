export * from './detect.js';
export * from './crop.js';
export * from './faces.js';
export { BLAZE_INPUT, blazeAnchors, decodeBlaze, type BlazeDetection } from './blaze.js';
