import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_JSON_VERSION, readRunJson } from '@fer/core';

const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));

/**
 * Runs the CLI from source as `pnpm fer` does, in a fresh process: from the repo (where tsx resolves),
 * with INIT_CWD the user's directory, which relative paths are taken from.
 */
function fer(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], {
    cwd: path.dirname(bin),
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: cwd, FORCE_COLOR: '0' },
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
const face = (row: number) => Array.from({ length: 2304 }, (_, i) => (row * 13 + i * 5) % 256).join(' ');

describe('fer CLI', () => {
  it('prints help and lists every command', () => {
    const r = fer(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['train', 'evaluate', 'predict', 'saliency', 'filters', 'report', 'summary', 'bench']) expect(r.out).toContain(`  ${c}`);
  });

  it('user errors: a clear message, a fix, exit 1, no stack trace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-'));
    const cases: [string[], RegExp][] = [
      [['train', '--epochs', '0'], /--epochs must be an integer from 1 to 10000 \(got "0"\)/],
      [['train', '--lr', 'fast'], /--lr must be a number/],
      [['train', '--data', 'nope.csv'], /nope\.csv does not exist/],
      [['train', '--model', 'vgg'], /--model must be one of seed, simple/],
      [['train', '--bogus'], /Unknown option '--bogus'/],
      [['summary', '--run', 'no-such-run'], /no-such-run.*(has no model\.json|does not exist)/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, msg] of cases) {
      const r = fer(args, dir);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(msg);
      noStack(r.err);
    }
  });

  it('a malformed CSV row stops `fer train` naming file and line, and loses nothing already saved', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-bad-'));
    const rows = ['emotion,pixels,Usage', ...Array.from({ length: 5 }, (_, i) => `${i % 7},${face(i)},Training`), `3,${face(9)} 7,Training`];
    writeFileSync(path.join(dir, 'bad.csv'), rows.join('\n'));
    const r = fer(['train', '--data', 'bad.csv', '--out', 'run'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.csv, line 7: it has 2305 pixels/);
    expect(r.err).toMatch(/--skip-bad-rows/);
    noStack(r.err);
    expect(existsSync(path.join(dir, 'run'))).toBe(false);
  });

  it('trains on a CSV, writes the run directory, and --resume continues it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-train-'));
    const rows = ['emotion,pixels,Usage', ...Array.from({ length: 24 }, (_, i) => `${i % 7},${face(i)},Training`), `1,${face(99)} 1,Training`];
    writeFileSync(path.join(dir, 'fer.csv'), `${rows.join('\n')}\n`);
    const r = fer(['train', '--data', 'fer.csv', '--skip-bad-rows', '--epochs', '1', '--batch', '8', '--train-rows', '16', '--backend', 'wasm', '--out', 'run'], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/backend: wasm/);
    expect(r.out).toMatch(/24 faces .*1 bad rows skipped/);
    expect(r.out).toMatch(/epoch 1\/1 .*val_acc/);
    const run = await readRunJson(path.join(dir, 'run'));
    expect(run.version).toBe(RUN_JSON_VERSION);
    expect(run.status).toBe('finished');
    expect(run.backend.name).toBe('wasm');
    expect(run.config.lr).toBe(1e-4); // the report's recipe with --data
    expect(run.data).toMatchObject({ rows: 24, skipped: 1, train: 16, validation: 8 });
    for (const f of ['history.json', 'history.csv', 'model/model.json', 'checkpoints/last/state.json']) expect(existsSync(path.join(dir, 'run', f)), f).toBe(true);

    const again = fer(['train', '--out', 'run'], dir);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds a run/);

    const resumed = fer(['train', '--resume', '--out', 'run', '--epochs', '2'], dir);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/epoch 2\/2/);
    const history = JSON.parse(readFileSync(path.join(dir, 'run', 'history.json'), 'utf8'));
    expect(history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);

    const summary = fer(['summary', '--run', 'run'], dir);
    expect(summary.code).toBe(0);
    expect(summary.out).toMatch(/trainable parameters: +538,759/);
  });
});
