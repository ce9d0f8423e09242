import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
      [['train', '--model', 'nope'], /--model must be one of seed, simple, .*\(got "nope"\)/],
      [['train', '--recipe', 'nope'], /unknown recipe "nope"[\s\S]*fix: choose one of: report \(.*\); strong \(/],
      [['train', '--optimizer', 'rmsprop'], /--optimizer must be one of adam, sgd/],
      [['train', '--crop', '40'], /--crop must be an integer from 0 to 16/],
      [['train', '--lr-schedule', 'exp'], /--lr-schedule must be one of constant, cosine, warmup-cosine, onecycle, step/],
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

  it("Kaggle's full file: --recipe strong with --split usage trains, then fer evaluate --usage PrivateTest scores the unseen faces", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-usage-'));
    const usage = (i: number) => (i < 28 ? 'Training' : i < 35 ? 'PublicTest' : 'PrivateTest');
    const rows = ['emotion,pixels,Usage', ...Array.from({ length: 42 }, (_, i) => `${i % 7},${face(i)},${usage(i)}`)];
    writeFileSync(path.join(dir, 'fer2013.csv'), `${rows.join('\n')}\n`);
    const r = fer(
      ['train', '--data', 'fer2013.csv', '--recipe', 'strong', '--model', 'tiny', '--epochs', '1', '--batch', '8', '--split', 'usage', '--backend', 'wasm', '--out', 'run'],
      dir,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/recipe: strong; model: tiny, 1 epochs, batch 8, SGD, Nesterov momentum 0\.9 lr 0\.01 \(warmup-cosine\), weight decay 0\.0005, label smoothing 0\.1/);
    expect(r.out).toMatch(/augmentation: pad-crop 4, flip/);
    expect(r.out).toMatch(/split: Usage column: 28 Training rows train, 7 PublicTest rows validate/);
    const e = fer(['evaluate', '--run', 'run', '--data', 'fer2013.csv', '--usage', 'PrivateTest', '--backend', 'wasm'], dir);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/PrivateTest\), 7 faces/);
    expect(e.out).toMatch(/accuracy \d+\.\d+%/);
  });

  it('--test-rows holds out a test part that neither trains nor validates; fer evaluate --test-part scores it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-test-part-'));
    const rows = ['emotion,pixels,Usage', ...Array.from({ length: 30 }, (_, i) => `${i % 7},${face(i)},Training`)];
    writeFileSync(path.join(dir, 'train.csv'), `${rows.join('\n')}\n`);
    const r = fer(
      ['train', '--data', 'train.csv', '--model', 'tiny', '--epochs', '1', '--batch', '8', '--train-rows', '16', '--test-rows', '6', '--backend', 'wasm', '--out', 'run'],
      dir,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/first 16 training rows train, the next 8 validate, the last 6 are held out as the test part/);
    const e = fer(['evaluate', '--run', 'run', '--test-part', '--backend', 'wasm'], dir);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/held-out test part of the run \(.*train\.csv, 6 faces\)/);
    expect(existsSync(path.join(dir, 'run', 'evaluate-test', 'evaluation.json'))).toBe(true);
    const none = fer(['evaluate', '--run', 'run', '--test-part', '--data', 'train.csv'], dir);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/--test-part scores the run's own held-out rows/);
  });

  it('--teacher distils finished runs into a new one: their probabilities are kept in it, so --resume needs none of them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-cli-teacher-'));
    const rows = ['emotion,pixels,Usage', ...Array.from({ length: 24 }, (_, i) => `${i % 7},${face(i)},Training`)];
    writeFileSync(path.join(dir, 'fer.csv'), `${rows.join('\n')}\n`);
    const common = ['--data', 'fer.csv', '--model', 'tiny', '--batch', '8', '--train-rows', '16', '--backend', 'wasm'];
    for (const [out, seed] of [
      ['t1', '1'],
      ['t2', '2'],
    ]) {
      const t = fer(['train', ...common, '--epochs', '2', '--lr', '0.01', '--seed', seed, '--out', out], dir);
      expect(t.code, t.err).toBe(0);
    }

    const noTeacher = fer(['train', ...common, '--teacher-weight', '0.5', '--out', 'bad'], dir);
    expect(noTeacher.code).toBe(1);
    expect(noTeacher.err).toMatch(/--teacher-weight .* needs --teacher RUN/);
    const missing = fer(['train', ...common, '--teacher', 'nowhere', '--out', 'bad'], dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/teacher: .*nowhere is not a directory\n {2}fix: give --teacher a finished run directory/);
    noStack(missing.err);
    expect(existsSync(path.join(dir, 'bad', 'teacher.bin'))).toBe(false);

    const s = fer(['train', ...common, '--epochs', '1', '--teacher', 't1', '--teacher', 't2', '--teacher-weight', '0.7', '--out', 'student'], dir);
    expect(s.code, s.err).toBe(0);
    expect(s.out).toMatch(/teachers: the probabilities of 2 runs on the 16 training faces/);
    expect(s.out).toMatch(/distillation: target = 0\.3\d* x labels \+ 0\.7 x the teachers' mean probabilities/);
    const run = await readRunJson(path.join(dir, 'student'));
    expect(run.config.teacherWeight).toBe(0.7);
    expect(run.config.teachers).toEqual([path.join(dir, 't1'), path.join(dir, 't2')]);
    const bin = readFileSync(path.join(dir, 'student', 'teacher.bin'));
    expect(bin.byteLength).toBe(16 * 7 * 4);
    const probs = new Float32Array(bin.buffer, bin.byteOffset, 16 * 7);
    for (let i = 0; i < 16; i++) expect(probs.subarray(i * 7, i * 7 + 7).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // the teachers may be gone: --resume reads teacher.bin
    renameSync(path.join(dir, 't1'), path.join(dir, 't1-moved'));
    const resumed = fer(['train', '--resume', '--out', 'student', '--epochs', '2'], dir);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/epoch 2\/2/);
    writeFileSync(path.join(dir, 'student', 'teacher.bin'), bin.subarray(0, 100));
    const broken = fer(['train', '--resume', '--out', 'student', '--epochs', '3'], dir);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/teacher\.bin holds 100 bytes, not the 448 of 16 training faces/);
    noStack(broken.err);
    expect(JSON.parse(readFileSync(path.join(dir, 'student', 'history.json'), 'utf8'))).toHaveLength(2); // nothing lost
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

    const changed = fer(['train', '--resume', '--out', 'run', '--epochs', '2', '--recipe', 'strong', '--lr', '0.5'], dir);
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/these differ from its run\.json: .*--model vgg \(the run has seed\).*--lr 0\.5 \(the run has 0\.0001\)/);
    expect(changed.err).toMatch(/--crop 4 \(the run has off\)/);
    noStack(changed.err);

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
