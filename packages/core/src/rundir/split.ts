import { existsSync } from 'node:fs';
import { splitByRows, splitByUsage, testPart, type FaceDataset, type Split } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import { syntheticFaces } from '../data/synthetic.js';
import { FerError } from '../errors.js';
import type { RunConfig } from './run-json.js';

/**
 * The one place a run's data and its train/validation split are made from its config: `fer train` makes
 * them this way, and evaluate, saliency, filters and the report rebuild the same faces from run.json.
 */
export async function loadRunData(config: RunConfig): Promise<FaceDataset> {
  if (config.data === 'synthetic') {
    const s = config.synthetic;
    if (!s) throw new FerError("the run's config has data 'synthetic' but no synthetic {count, seed}", { hint: 'pass --data FILE' });
    return syntheticFaces({ count: s.count, seed: s.seed });
  }
  return loadDataset(config.data, { limit: config.limit, skipBadRows: config.skipBadRows });
}

/** The split the run trains and validates on. */
export function runSplit(config: Pick<RunConfig, 'split' | 'trainRows' | 'testRows'>, data: FaceDataset): Split {
  return config.split === 'usage' ? splitByUsage(data) : splitByRows(data, config.trainRows, config.testRows ?? 0);
}

/** The run's held-out test part (`--test-rows`): rows it neither trained nor validated on. */
export async function runTestData(config: RunConfig): Promise<FaceDataset> {
  if (!config.testRows)
    throw new FerError('the run held out no test part (it trained without --test-rows)', { hint: 'evaluate on --data FILE, or on its validation split without --test-part' });
  if (config.split === 'usage') throw new FerError('the run split by the Usage column: its test part is PrivateTest', { hint: 'use fer evaluate --data FILE --usage PrivateTest' });
  if (config.data !== 'synthetic' && !existsSync(config.data)) {
    throw new FerError(`the run trained on ${config.data}, which is no longer there`, { hint: 'pass --data FILE to use another copy' });
  }
  return testPart(await loadRunData(config), config.testRows);
}

/** The faces a finished or running run validated on (masks come along for synthetic faces). */
export async function runValidationData(config: RunConfig): Promise<FaceDataset> {
  if (config.data !== 'synthetic' && !existsSync(config.data)) {
    throw new FerError(`the run trained on ${config.data}, which is no longer there`, { hint: 'pass --data FILE to use another copy' });
  }
  return runSplit(config, await loadRunData(config)).validation;
}
