import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { faceModelDir } from '@fer/core';

/** face-api's six demo photos (sample1.jpg ... sample6.jpg, in its npm package), full paths, in order. */
export async function demoPhotoFiles(): Promise<string[]> {
  const demo = path.join(path.dirname(faceModelDir()), 'demo');
  return (await readdir(demo))
    .filter((f) => /^sample\d+\.jpg$/.test(f))
    .sort()
    .map((f) => path.join(demo, f));
}

/** `--min-score 0.5,0.2`: detector scores, each between 0 and 1; anything else is an error naming it. */
export function parseScores(list: string): number[] {
  return list.split(',').map((t) => {
    const n = Number(t);
    if (t.trim() === '' || !(n > 0 && n < 1)) throw new Error(`--min-score: "${t}" is not a score between 0 and 1 (give e.g. 0.5,0.2)`);
    return n;
  });
}
