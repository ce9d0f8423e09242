import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend, type BackendInfo } from '../backend/select.js';
import { splitByRows, type FaceDataset } from '../data/dataset.js';
import { FerError } from '../errors.js';
import { defaultRunConfig } from '../training/defaults.js';
import { createRunJson, parseRunJson, readRunJson, RUN_JSON_VERSION, writeRunJson, type RunJson } from './run-json.js';
import { loadRunData, runSplit, runValidationData } from './split.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('cpu');
});

async function syntheticRun(dir: string): Promise<RunJson> {
  const config = defaultRunConfig('synthetic', { synthetic: { count: 40, trainRows: 30, seed: 5 }, trainRows: 30 });
  const data = await loadRunData(config);
  const run = createRunJson({ runDir: dir, command: 'fer train', config, data, split: runSplit(config, data), backend, threads: 1, tfjsVersion: 'test', dataLoadSeconds: 0.1 });
  await writeRunJson(dir, run);
  return run;
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'fer-runjson-'));
/** Rewrites run.json through `f`, as a person editing it by hand would. */
const edit = (dir: string, f: (j: { version?: number; config: Record<string, unknown> }) => void) => {
  const file = path.join(dir, 'run.json');
  const j = JSON.parse(readFileSync(file, 'utf8'));
  f(j);
  writeFileSync(file, JSON.stringify(j));
};

describe('run.json', () => {
  it('round-trips what fer train writes, with its version', async () => {
    const dir = tmp();
    const run = await syntheticRun(dir);
    expect(run.version).toBe(RUN_JSON_VERSION);
    expect(run.data).toMatchObject({ rows: 40, train: 30, validation: 10, format: 'synthetic' });
    expect(await readRunJson(dir)).toEqual(run);
  });

  it('reads a file from before versions existed as version 1', async () => {
    const dir = tmp();
    await syntheticRun(dir);
    edit(dir, (j) => {
      j.version = undefined;
    });
    expect((await readRunJson(dir)).version).toBe(1);
  });

  it('a run from a newer fer: says so and how to fix it', async () => {
    const dir = tmp();
    await syntheticRun(dir);
    edit(dir, (j) => {
      j.version = RUN_JSON_VERSION + 1;
    });
    const e = await readRunJson(dir).catch((x) => x);
    expect(e).toBeInstanceOf(FerError);
    expect(e.message).toMatch(/written by a newer fer \(run\.json version 2; this fer reads version 1\)/);
    expect(e.hint).toMatch(/update fer/);
  });

  it('a hand-edited or older file: names the file and each bad field', async () => {
    const dir = tmp();
    await syntheticRun(dir);
    edit(dir, (j) => {
      j.config.trainRows = 'thirty';
      delete j.config.split;
      j.config.lrSchedule = 'linear';
    });
    const e = await readRunJson(dir).catch((x) => x);
    expect(e).toBeInstanceOf(FerError);
    expect(e.message).toContain(path.join(dir, 'run.json'));
    expect(e.message).toMatch(/"config.trainRows" is "thirty", not a whole number/);
    expect(e.message).toMatch(/"config.split" is missing/);
    expect(e.message).toMatch(/"config.lrSchedule" is "linear"/);
    edit(dir, (j) => {
      (j as { config?: unknown }).config = undefined;
    });
    await expect(readRunJson(dir)).rejects.toThrow(/"config.data" is missing/);
  });

  it('not JSON, not an object, no run.json: clear errors', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'run.json'), '{"config": ');
    await expect(readRunJson(dir)).rejects.toThrow(/is not valid JSON/);
    expect(() => parseRunJson([1, 2], 'x/run.json')).toThrow(/x\/run\.json is not a run\.json/);
    const empty = tmp();
    await expect(readRunJson(empty)).rejects.toThrow(/is not a run directory \(no run\.json\)/);
    expect(await readRunJson(empty, { optional: true })).toBeUndefined();
    await expect(readRunJson(path.join(empty, 'nope'))).rejects.toThrow(/is not a directory/);
  });
});

describe('runSplit', () => {
  it('rebuilds the split the run trained with: the same faces validate', async () => {
    const dir = tmp();
    const run = await syntheticRun(dir);
    const val = await runValidationData((await readRunJson(dir)).config);
    const data = (await loadRunData(run.config)) as FaceDataset;
    const direct = splitByRows(data, 30).validation;
    expect(val.size).toBe(10);
    expect(Buffer.from(val.pixels).equals(Buffer.from(direct.pixels))).toBe(true);
    expect(Array.from(val.labels)).toEqual(Array.from(direct.labels));
    expect(val.masks).toBeDefined();
  });

  it('a data file that moved away: says which', async () => {
    const config = defaultRunConfig('/nowhere/fer2013.csv');
    await expect(runValidationData(config)).rejects.toThrow(/trained on \/nowhere\/fer2013\.csv, which is no longer there/);
  });
});
