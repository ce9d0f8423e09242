/**
 * `@fer/core/face`: what the browser page of @fer/web shares with Node's pipeline, without tfjs, sharp or
 * node: the classes, the 48x48 input, and face geometry (boxes, where a face's FER2013-like crop lies, sampling
 * it upright, grey as sharp makes it, the 48x48 shrink).
 */
export { EMOTIONS, type Emotion, IMAGE_SIZE, NUM_CLASSES, PIXELS_PER_IMAGE } from './classes.js';
export * from './detect/geometry.js';
