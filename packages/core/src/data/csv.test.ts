import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFer2013Csv } from './csv.js';
import { loadDataset } from './load.js';
import { FerError } from '../errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fer-csv-'));
});

/** A face whose pixels encode its row, so we can check every byte landed where it belongs. */
const face = (row: number) => Array.from({ length: 2304 }, (_, i) => (row * 31 + i * 7) % 256);
const write = (name: string, text: string | Buffer) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('loadFer2013Csv', () => {
  it('reads Kaggle fer2013.csv: labels, every pixel, usage', async () => {
    const rows = [0, 1, 2].map((r) => `${r + 3},${face(r).join(' ')},${r === 2 ? 'PublicTest' : 'Training'}`);
    const d = await loadFer2013Csv(write('k.csv', `${['emotion,pixels,Usage', ...rows].join('\n')}\n`));
    expect(d.format).toBe('kaggle-csv');
    expect(d.size).toBe(3);
    expect(Array.from(d.labels)).toEqual([3, 4, 5]);
    expect(d.usage).toEqual(['Training', 'Training', 'PublicTest']);
    for (let r = 0; r < 3; r++) expect(Array.from(d.pixels.subarray(r * 2304, (r + 1) * 2304))).toEqual(face(r));
  });

  it('reads space-padded headers in another column order (icml_face_data.csv), CRLF and quotes', async () => {
    const rows = [0, 1].map((r) => `${r}, Training,"${face(r).join(' ')}"`);
    const d = await loadFer2013Csv(write('icml.csv', ['emotion, Usage, pixels', ...rows].join('\r\n')));
    expect(d.format).toBe('kaggle-csv');
    expect(Array.from(d.labels)).toEqual([0, 1]);
    expect(d.usage).toEqual(['Training', 'Training']);
    expect(Array.from(d.pixels.subarray(2304, 4608))).toEqual(face(1));
  });

  it('reads NTU train.csv and test.csv', async () => {
    const train = await loadFer2013Csv(write('train.csv', `label,feature\n6,${face(0).join(' ')}\n`));
    expect(train.format).toBe('ntu-train-csv');
    expect(Array.from(train.labels)).toEqual([6]);
    const test = await loadFer2013Csv(write('test.csv', `id,feature\n0,${face(0).join(' ')}\n1,${face(1).join(' ')}\n`));
    expect(test.format).toBe('ntu-test-csv');
    expect(test.ids).toEqual(['0', '1']);
    expect(Array.from(test.labels)).toEqual([-1, -1]);
  });

  it('reads gzipped files whatever their name, chunk boundaries anywhere', async () => {
    const text = ['emotion,pixels,Usage', ...Array.from({ length: 40 }, (_, r) => `${r % 7},${face(r).join(' ')},Training`)].join('\n');
    const d = await loadDataset(write('big.csv.gz', gzipSync(text)));
    expect(d.size).toBe(40);
    expect(Array.from(d.pixels.subarray(39 * 2304, 40 * 2304))).toEqual(face(39));
    const limited = await loadDataset(path.join(dir, 'big.csv.gz'), { limit: 5 });
    expect(limited.size).toBe(5);
  });

  const bad: [string, string, RegExp][] = [
    ['too few pixels', `0,${face(0).slice(1).join(' ')},Training`, /line 3: it has 2303 pixels, a 48x48 face has 2304/],
    ['too many pixels', `0,${face(0).join(' ')} 5,Training`, /line 3: it has 2305 pixels/],
    ['a pixel over 255', `0,${[...face(0).slice(0, 9), 256, ...face(0).slice(10)].join(' ')},Training`, /line 3: pixel 10 is 256, outside 0\.\.255/],
    ['a pixel that is not an integer', `0,${[...face(0).slice(0, 4), '1.5', ...face(0).slice(5)].join(' ')},Training`, /line 3: pixel 5 "1\.5" is not an integer 0\.\.255/],
    ['an unknown label', `9,${face(0).join(' ')},Training`, /line 3: the label "9" is not a class index 0\.\.6/],
    ['a missing column', `0,${face(0).join(' ')}`, /line 3: it has 2 column\(s\), the header has 3/],
  ];
  for (const [what, row, msg] of bad) {
    it(`stops at ${what}, naming file and line, and skips it with skipBadRows`, async () => {
      const f = write(`bad-${what.replace(/\W/g, '_')}.csv`, ['emotion,pixels,Usage', `1,${face(1).join(' ')},Training`, row, `2,${face(2).join(' ')},Training`].join('\n'));
      const err = await loadFer2013Csv(f).catch((e) => e);
      expect(err).toBeInstanceOf(FerError);
      expect(err.message).toContain(f);
      expect(err.message).toMatch(msg);
      expect(err.hint).toMatch(/--skip-bad-rows/);
      const d = await loadFer2013Csv(f, { skipBadRows: true });
      expect(d.size).toBe(2);
      expect(d.skipped).toBe(1);
      expect(Array.from(d.labels)).toEqual([1, 2]);
      expect(Array.from(d.pixels.subarray(2304, 4608))).toEqual(face(2));
    });
  }

  it('rejects an empty file, a header of no known format, a missing file and corrupt gzip', async () => {
    await expect(loadFer2013Csv(write('empty.csv', ''))).rejects.toThrow(/empty\.csv is empty/);
    await expect(loadFer2013Csv(write('hdr.csv', 'a,b,c\n1,2,3\n'))).rejects.toThrow(/hdr\.csv, line 1: the header "a,b,c" fits no known format/);
    await expect(loadFer2013Csv(write('only-header.csv', 'emotion,pixels,Usage\n'))).rejects.toThrow(/has a header but no data rows/);
    await expect(loadDataset(path.join(dir, 'missing.csv'))).rejects.toThrow(/missing\.csv does not exist/);
    const gz = gzipSync(`emotion,pixels,Usage\n0,${face(0).join(' ')},Training\n`);
    await expect(loadFer2013Csv(write('trunc.csv.gz', gz.subarray(0, gz.length - 20)))).rejects.toThrow(FerError);
  });
});
