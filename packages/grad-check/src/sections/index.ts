import { batchnorm } from './batchnorm.js';
import { conv } from './conv.js';
import { softmax } from './softmax.js';
import type { Section, SectionName } from './types.js';

export const sections: Record<SectionName, Section> = { conv, batchnorm, softmax };
export { batchnorm, conv, softmax };
export { countWindows, convOutputSize } from './conv.js';
export type { AutodiffFn, CheckKind, CheckResult, ClosedForm, Condition, Section, SectionName } from './types.js';
