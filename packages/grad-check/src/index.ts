/**
 * @fer/grad-check: the homework's math checked three independent ways, and the tools that do it.
 *
 *   verifyClaims(file)        judge formulas ("quantity = formula" in a small mathjs template language)
 *                             against the BatchNorm, softmax + cross-entropy and convolution definitions
 *   runReferenceChecks()      definitions vs textbook closed forms: symbolic, float64 differences, tfjs
 *   runVerifier()             both, as `pnpm verify-math` runs them
 *   gradCheck(f, inputs, o)   torch.autograd.gradcheck for float64 functions and tfjs functions
 */
export { gradCheck, GradCheckError } from './gradcheck.js';
export type { GradCheckEntry, GradCheckOptions, GradCheckResult } from './gradcheck.js';
export { verifyClaims, verifyClaim, loadClaims, parseClaims, ClaimsError } from './claims.js';
export type { Claim, ClaimResult, ClaimsFile, Counterexample, Verdict, VerifyOptions } from './claims.js';
export { runReferenceChecks, checkClosedForm, relErrorVector, centralDifference5, TOLERANCE } from './checks.js';
export type { CheckOptions } from './checks.js';
export { runVerifier, hw3Claims } from './verify.js';
export type { RunOptions, VerifyReport } from './verify.js';
export { renderTerminal, renderMarkdown, toJson } from './report.js';
export { sections, batchnorm, softmax, conv, countWindows, convOutputSize } from './sections/index.js';
export type { CheckKind, CheckResult, ClosedForm, Condition, Section, SectionName } from './sections/index.js';
export { expand, TemplateError } from './template.js';
export { useCpuBackend } from './tf.js';
