import { FerError } from '../errors.js';
import { PIXELS_PER_IMAGE } from '../classes.js';

export type DataFormat = 'kaggle-csv' | 'ntu-train-csv' | 'ntu-test-csv' | 'image-folder' | 'synthetic';

/**
 * N grey 48x48 faces. `pixels` holds them row-major, one byte each (N x 2304): a data set never
 * lives as arrays of numbers or strings, so FER2013 fits in 66 MB.
 */
export interface FaceDataset {
  pixels: Uint8Array;
  /** Class index 0..6, or -1 where the source has none (NTU test.csv). */
  labels: Int8Array;
  size: number;
  /** FER2013's Usage column (Training, PublicTest, PrivateTest) where the source has it. */
  usage?: string[];
  /** NTU test.csv ids, or image file names for folders. */
  ids?: string[];
  source: string;
  format: DataFormat;
  /** Rows skipped with --skip-bad-rows. */
  skipped: number;
  /** Region masks (eyes, brows, mouth) of synthetic faces, N x 2304 each, 1 inside. */
  masks?: { eyes: Uint8Array; brows: Uint8Array; mouth: Uint8Array };
}

export function hasLabels(d: FaceDataset): boolean {
  for (let i = 0; i < d.size; i++) if (d.labels[i] < 0) return false;
  return d.size > 0;
}

/** Copies the chosen rows into a new data set (masks and ids follow). */
export function subset(d: FaceDataset, indices: ArrayLike<number>): FaceDataset {
  const n = indices.length;
  const pixels = new Uint8Array(n * PIXELS_PER_IMAGE);
  const labels = new Int8Array(n);
  const pick = <T>(a: T[] | undefined) => (a ? Array.from({ length: n }, (_, i) => a[indices[i]]) : undefined);
  const pickMask = (m: Uint8Array) => {
    const out = new Uint8Array(n * PIXELS_PER_IMAGE);
    for (let i = 0; i < n; i++) out.set(m.subarray(indices[i] * PIXELS_PER_IMAGE, (indices[i] + 1) * PIXELS_PER_IMAGE), i * PIXELS_PER_IMAGE);
    return out;
  };
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    if (j < 0 || j >= d.size) throw new RangeError(`row ${j} is outside a data set of ${d.size}`);
    pixels.set(d.pixels.subarray(j * PIXELS_PER_IMAGE, (j + 1) * PIXELS_PER_IMAGE), i * PIXELS_PER_IMAGE);
    labels[i] = d.labels[j];
  }
  return {
    ...d,
    pixels,
    labels,
    size: n,
    usage: pick(d.usage),
    ids: pick(d.ids),
    masks: d.masks && { eyes: pickMask(d.masks.eyes), brows: pickMask(d.masks.brows), mouth: pickMask(d.masks.mouth) },
  };
}

export interface Split {
  train: FaceDataset;
  validation: FaceDataset;
  /** How the split was made, for run.json. */
  description: string;
}

/** The rows of the Training part (every row where the source has no Usage column). */
function trainingRows(d: FaceDataset): number[] {
  const rows: number[] = [];
  for (let i = 0; i < d.size; i++) if (!d.usage || d.usage[i] === 'Training') rows.push(i);
  return rows;
}

/**
 * The report's split: the first `trainRows` rows train, the rest validate. Where the source has a
 * Usage column, only its Training rows take part (PublicTest/PrivateTest stay unseen). With `testRows`,
 * the last testRows of those rows are held out as a test part that neither trains nor validates
 * (testPart gives them).
 */
export function splitByRows(d: FaceDataset, trainRows: number, testRows = 0): Split {
  const all = trainingRows(d);
  if (testRows > 0 && testRows >= all.length - 1) {
    throw new FerError(`--test-rows ${testRows} leaves too few rows: ${d.source} has ${all.length} training rows`, { hint: `hold out fewer than ${all.length - 1}` });
  }
  const rows = testRows > 0 ? all.slice(0, all.length - testRows) : all;
  if (rows.length < 2) {
    if (d.usage && d.size >= 2) {
      const counts = new Map<string, number>();
      for (const u of d.usage) counts.set(u, (counts.get(u) ?? 0) + 1);
      const found = [...counts].map(([u, n]) => `${n} ${u}`).join(', ');
      throw new FerError(
        `${d.source} has ${rows.length} row(s) marked Training in its Usage column (it has ${found}): only Training rows train, so that PublicTest and PrivateTest stay unseen`,
        {
          hint: "train on a file with Training rows (Kaggle's full fer2013.csv), and score this one with `fer evaluate --run DIR --data FILE --usage PublicTest`",
        },
      );
    }
    throw new FerError(`${d.source} has ${rows.length} face(s): at least 2 are needed to train and validate`, { hint: 'check that the file is the whole data set' });
  }
  if (trainRows >= rows.length) {
    throw new FerError(`--train-rows ${trainRows} leaves no validation rows: ${d.source} has ${rows.length} training rows${testRows ? ` before the ${testRows} held out` : ''}`, {
      hint: `pass --train-rows below ${rows.length} (the report uses 25000 of 28709)`,
    });
  }
  return {
    train: subset(d, rows.slice(0, trainRows)),
    validation: subset(d, rows.slice(trainRows)),
    description: `first ${trainRows} training rows train, the next ${rows.length - trainRows} validate${testRows ? `, the last ${testRows} are held out as the test part` : ''}`,
  };
}

/** The held-out test part of splitByRows: the last `testRows` training rows. */
export function testPart(d: FaceDataset, testRows: number): FaceDataset {
  const all = trainingRows(d);
  if (!(testRows > 0) || testRows > all.length) throw new FerError(`${d.source} has ${all.length} training rows, so it has no test part of ${testRows}`);
  return subset(d, all.slice(all.length - testRows));
}

/** Kaggle's split: Training trains, PublicTest validates. */
export function splitByUsage(d: FaceDataset): Split {
  if (!d.usage) throw new FerError(`${d.source} has no Usage column, so --split usage cannot apply`, { hint: 'use --split rows (--train-rows N) instead' });
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < d.size; i++) {
    if (d.usage[i] === 'Training') train.push(i);
    else if (d.usage[i] === 'PublicTest') val.push(i);
  }
  if (!train.length || !val.length) {
    throw new FerError(`${d.source} has ${train.length} Training and ${val.length} PublicTest rows: --split usage needs both`, {
      hint: 'use --split rows (--train-rows N) instead',
    });
  }
  return { train: subset(d, train), validation: subset(d, val), description: `Usage column: ${train.length} Training rows train, ${val.length} PublicTest rows validate` };
}

/** Rows of one Usage value (PublicTest, PrivateTest), for evaluation. */
export function selectUsage(d: FaceDataset, usage: string): FaceDataset {
  if (!d.usage) throw new FerError(`${d.source} has no Usage column, so --usage ${usage} cannot apply`);
  const rows: number[] = [];
  for (let i = 0; i < d.size; i++) if (d.usage[i] === usage) rows.push(i);
  if (!rows.length) throw new FerError(`${d.source} has no rows with Usage ${usage}`, { hint: `its values are ${[...new Set(d.usage)].join(', ')}` });
  return subset(d, rows);
}
