import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The built package, as a user gets it: plain Node (no "source" condition, no bundler) loads its ESM and
// CJS builds, and both export the same names.
const root = fileURLToPath(new URL('..', import.meta.url));
const names = (code: string, type: 'module' | 'commonjs') =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=' + type, '-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim().split('\n').pop()!);

describe('dist', () => {
  it('loads as ESM and as CJS with the same exports', () => {
    const esm = names("const m = await import('./dist/index.js'); console.log(JSON.stringify(Object.keys(m).sort()))", 'module');
    const cjs = names("console.log(JSON.stringify(Object.keys(require('./dist/index.cjs')).sort()))", 'commonjs');
    expect(esm).toContain('plotHistory');
    expect(cjs).toEqual(esm);
  });
});
