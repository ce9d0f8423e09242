import type { AttributionMethod } from './types.js';
import { vanillaGradient } from './vanilla.js';
import { smoothGrad } from './smoothgrad.js';
import { gradCam } from './gradcam.js';
import { integratedGradients } from './integrated-gradients.js';

export * from './types.js';
export * from './layers.js';
export * from './vanilla.js';
export * from './smoothgrad.js';
export * from './gradcam.js';
export * from './integrated-gradients.js';

export const SALIENCY_METHODS = ['vanilla', 'smoothgrad', 'gradcam', 'ig'] as const;
export type SaliencyMethod = (typeof SALIENCY_METHODS)[number];

/** The methods by their CLI names. */
export const ATTRIBUTION_METHODS: Record<SaliencyMethod, AttributionMethod> = {
  vanilla: vanillaGradient,
  smoothgrad: smoothGrad,
  gradcam: gradCam,
  ig: integratedGradients,
};

export const SALIENCY_METHOD_TITLES: Record<SaliencyMethod, string> = {
  vanilla: 'Vanilla gradient',
  smoothgrad: 'SmoothGrad',
  gradcam: 'Grad-CAM',
  ig: 'Integrated Gradients',
};
