import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerError } from './errors.js';

/**
 * Writes a file so that readers see the old or the new content, never half of one (the parent folder
 * is made if missing). Every file fer writes goes through here or writeDirAtomic.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** `value` as indented JSON with a final newline, atomically. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a JSON file; a missing, unreadable or malformed file is a FerError that names it and `what` it should be. */
export async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code})`, { hint: `is this the right ${what}?` });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new FerError(`${file} is not valid JSON (${(e as Error).message})`, { hint: `the ${what} is corrupt: restore it from a checkpoint or train again` });
  }
}

/**
 * Replaces directory `dir` by one holding `files`, atomically enough for a crash at any point to leave
 * either the old or the new directory (the old one under `dir.old` for a moment, which settledDir finds).
 */
export async function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(tmp, name), data);
  if (existsSync(dir)) {
    await rm(old, { recursive: true, force: true });
    await rename(dir, old);
  }
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The directory to read: `dir`, or `dir.old` when a writeDirAtomic was cut off between its two renames. */
export function settledDir(dir: string): string {
  if (!existsSync(dir) && existsSync(`${dir}.old`)) return `${dir}.old`;
  return dir;
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
