import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { NUM_CLASSES, PIXELS_PER_IMAGE } from '../classes.js';
import type { FaceDataset } from '../data/dataset.js';
import { FerError, isFerError } from '../errors.js';
import { loadRunEnsemble } from '../evaluation/ensemble.js';
import { predictFaces } from '../evaluation/predict.js';
import { writeFileAtomic } from '../files.js';

/**
 * Distillation's soft targets: the teacher runs' probabilities on each training face, averaged over the runs
 * (each face as it is, no test-time views), size x 7. The teachers must be 48x48 grey, 7-class runs
 * (loadRunEnsemble checks them); `onProgress(done, total)` after each block of faces.
 */
export async function teacherProbabilities(teachers: readonly string[], train: FaceDataset, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  if (!teachers.length) throw new FerError('no teacher runs given');
  const members = await loadRunEnsemble(teachers.map((dir) => ({ dir }))).catch((e: unknown) => {
    // the ensemble loader's hints speak of --run
    if (isFerError(e))
      throw new FerError(`teacher: ${e.message}`, { hint: 'give --teacher a finished run directory written by `fer train` (runs/<name>), once per teacher', cause: e });
    throw e;
  });
  const models = members.map((m) => m.model);
  const out = new Float32Array(train.size * NUM_CLASSES);
  const block = 2048;
  try {
    for (let s = 0; s < train.size; s += block) {
      const e = Math.min(train.size, s + block);
      out.set(await predictFaces(models, train.pixels.subarray(s * PIXELS_PER_IMAGE, e * PIXELS_PER_IMAGE)), s * NUM_CLASSES);
      onProgress?.(e, train.size);
    }
  } finally {
    for (const m of models) m.dispose();
  }
  return out;
}

/** Writes teacher probabilities (float32, little-endian, 7 per face) atomically. */
export async function saveTeacherProbabilities(file: string, probs: Float32Array): Promise<void> {
  await writeFileAtomic(file, new Uint8Array(probs.buffer, probs.byteOffset, probs.byteLength));
}

/** Reads what saveTeacherProbabilities wrote, for `faces` training faces; a missing or wrong-sized file is a FerError naming it. */
export async function loadTeacherProbabilities(file: string, faces: number): Promise<Float32Array> {
  const hint = "the run was trained with --teacher and teacher.bin holds the teachers' probabilities: restore it from a copy, or train the run again";
  if (!existsSync(file)) throw new FerError(`${file} is missing`, { hint });
  const buf = await readFile(file);
  if (buf.byteLength !== faces * NUM_CLASSES * 4)
    throw new FerError(`${file} holds ${buf.byteLength} bytes, not the ${faces * NUM_CLASSES * 4} of ${faces} training faces x 7 probabilities`, { hint });
  const probs = new Float32Array(faces * NUM_CLASSES);
  new Uint8Array(probs.buffer).set(buf);
  for (let i = 0; i < probs.length; i++) if (!(probs[i] >= 0 && probs[i] <= 1)) throw new FerError(`${file}: value ${i} is ${probs[i]}, not a probability`, { hint });
  return probs;
}
