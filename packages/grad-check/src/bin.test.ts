import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = join(dirname(fileURLToPath(import.meta.url)), 'bin.ts');
const run = (...args: string[]) => spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('verify-math CLI', () => {
  it('writes JSON and Markdown for a claims file; --strict turns a failing claim into exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm-'));
    const claims = join(dir, 'claims.json');
    writeFileSync(
      claims,
      JSON.stringify({
        claims: [
          { id: 'ok', section: 'softmax', latex: '\\hat y_t - y_t', quantity: 'grad(z[t])', mathjs: 'yhat[t] - y[t]' },
          { id: 'bad', section: 'softmax', latex: '\\hat y_t', quantity: 'grad(z[t])', mathjs: 'yhat[t]' },
        ],
      }),
    );
    const md = join(dir, 'math.md');
    const r = run('--json', '--claims', claims, '--markdown', md, '--sections', 'softmax');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    // ŷ_t is right for every class but the target: no tested condition (t = c) rescues it.
    expect(out.claims.map((c: { id: string; verdict: string }) => [c.id, c.verdict])).toEqual([
      ['ok', 'holds'],
      ['bad', 'fails'],
    ]);
    expect(out.claims[1].counterexample.index).toEqual({ t: expect.any(Number) });
    for (const c of out.checks) expect(Object.keys(c)).toEqual(expect.arrayContaining(['name', 'kind', 'maxRelError', 'pass']));
    expect(new Set(out.checks.map((c: { section: string }) => c.section))).toEqual(new Set(['softmax']));
    expect(out.ok).toBe(true);
    expect(readFileSync(md, 'utf8')).toMatch(/### bad\n\n\*\*fails\*\*\n\n\$\$\n\\hat y_t\n\$\$/);

    writeFileSync(claims, JSON.stringify({ claims: [{ id: 'bad', section: 'softmax', latex: 'x', quantity: 'grad(z[t])', mathjs: '-y[t] + y[t] * yhat[t]' }] }));
    const strict = run('--strict', '--claims', claims, '--sections', 'softmax');
    // A holds-if claim is a finding with its condition, not a failure, even under --strict.
    expect(strict.stdout).toMatch(/◐ holds if bad y_t = 1/);
    expect(strict.status).toBe(0);
    writeFileSync(claims, JSON.stringify({ claims: [{ id: 'bad', section: 'softmax', latex: 'x', quantity: 'grad(z[t])', mathjs: '2 * yhat[t]' }] }));
    const failing = run('--strict', '--claims', claims, '--sections', 'softmax');
    expect(failing.status).toBe(1);
    expect(failing.stdout).toMatch(/✗ fails +bad/);
    expect(failing.stdout).toMatch(/--strict: 1 report claims fail/);
    expect(run('--claims', claims, '--sections', 'softmax').status).toBe(0);
  }, 120_000);

  it('explains usage errors without a stack trace and exits 2', () => {
    const flag = run('--jsn');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^verify-math: Unknown option '--jsn'.*\nRun with --help/s);
    const missing = run('--claims', '/nonexistent/claims.json');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('verify-math: cannot read claims file /nonexistent/claims.json: ENOENT; pass an existing JSON file\n');
    expect(run('--sections', 'conv,bn').stderr).toMatch(/unknown section "bn"; use a comma-separated list of conv, batchnorm, softmax/);
    const seed = run('--seed', 'x');
    expect(seed.status).toBe(2);
    expect(seed.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
