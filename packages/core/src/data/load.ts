import { stat } from 'node:fs/promises';
import { FerError } from '../errors.js';
import type { FaceDataset } from './dataset.js';
import { loadFer2013Csv } from './csv.js';
import { loadImageFolder } from './images.js';

export interface LoadOptions {
  skipBadRows?: boolean;
  limit?: number;
}

/**
 * Loads faces from a path, detecting the format: a folder of emotion folders, or a CSV (Kaggle
 * fer2013.csv, NTU train.csv / test.csv), plain or gzipped.
 */
export async function loadDataset(file: string, options: LoadOptions = {}): Promise<FaceDataset> {
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new FerError(`--limit must be a positive integer (got ${options.limit})`);
  }
  let isDir: boolean;
  try {
    isDir = (await stat(file)).isDirectory();
  } catch {
    throw new FerError(`${file} does not exist`, { hint: 'check the path given to --data' });
  }
  return isDir ? loadImageFolder(file, options) : loadFer2013Csv(file, options);
}
