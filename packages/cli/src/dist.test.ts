import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Every package as a user gets it: plain Node (no "source" condition, no bundler) loads its ESM and CJS
// builds, and both export the same names. The CLI depends on all of them, so turbo has built them by now.
const packages: [string, string][] = [
  ['core', 'seedCnn'],
  ['bench', 'runBench'],
  ['grad-check', 'gradCheck'],
  ['viz', 'plotHistory'],
  ['web', 'startServer'],
  ['cli', 'main'],
];

function exportedNames(dir: string, code: string, type: 'module' | 'commonjs'): string[] {
  const out = execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('dist', () => {
  for (const [name, symbol] of packages) {
    it(`@fer/${name} loads as ESM and as CJS with the same exports`, () => {
      const dir = fileURLToPath(new URL(`../../${name}`, import.meta.url));
      const esm = exportedNames(dir, "const m = await import('./dist/index.js'); console.log(JSON.stringify(Object.keys(m).sort()))", 'module');
      const cjs = exportedNames(dir, "console.log(JSON.stringify(Object.keys(require('./dist/index.cjs')).sort()))", 'commonjs');
      expect(esm).toContain(symbol);
      expect(cjs).toEqual(esm);
    });
  }
});
