import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { FerError } from '../errors.js';
import { IMAGE_SIZE, PIXELS_PER_IMAGE, emotionIndex, EMOTIONS } from '../classes.js';
import type { FaceDataset } from './dataset.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i;

/** An image file's bytes; a missing or unreadable file is a FerError naming it. */
export async function readImageFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code})`, { hint: 'check the image path' });
  }
}

/** Any image file (any size, colour or format sharp reads) as 48x48 grey bytes. */
export async function loadFaceImage(file: string): Promise<Uint8Array> {
  return decodeFaceImage(await readImageFile(file), file);
}

/**
 * An image's encoded bytes (any size, colour or format sharp reads) as 48x48 grey bytes, as loadFaceImage
 * makes a file's; bytes that are not a readable image are a FerError naming `source` (a path, "the request body").
 */
export async function decodeFaceImage(buf: Uint8Array, source: string): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(buf).greyscale().resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`${info.channels} channels after greyscale`);
    return new Uint8Array(data.buffer, data.byteOffset, PIXELS_PER_IMAGE).slice();
  } catch (e) {
    throw new FerError(`${source} is not a readable image (${(e as Error).message.split('\n')[0]})`, { hint: 'use a JPEG, PNG, WebP, GIF or TIFF file' });
  }
}

/**
 * The format and size (before EXIF rotation) an image's encoded bytes declare, read from their header only, so a
 * truncated file passes here and fails when decoded; bytes that are no image sharp reads are a FerError naming
 * `source`.
 */
export async function imageHeader(buf: Uint8Array, source: string): Promise<{ format: string; width: number; height: number }> {
  try {
    const { format, width, height } = await sharp(buf).metadata();
    if (!format || !width || !height) throw new Error('no format or size in its header');
    return { format, width, height };
  } catch (e) {
    throw new FerError(`${source} is not an image (${(e as Error).message.split('\n')[0]})`, { hint: 'use a JPEG, PNG, WebP, GIF or TIFF file' });
  }
}

const SPLIT_USAGE: Record<string, string> = {
  train: 'Training',
  training: 'Training',
  val: 'PublicTest',
  valid: 'PublicTest',
  validation: 'PublicTest',
  publictest: 'PublicTest',
  test: 'PublicTest',
  privatetest: 'PrivateTest',
};

async function subdirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * An image folder: `<dir>/<emotion>/*.jpg|png` (emotion by name or index), or `<dir>/<split>/<emotion>/...`
 * with split train (Training), val/test (PublicTest). Images of any size or colour become 48x48 grey.
 */
export async function loadImageFolder(dir: string, options: { skipBadRows?: boolean; limit?: number } = {}): Promise<FaceDataset> {
  const top = await subdirs(dir);
  const splitDirs = top.filter((d) => SPLIT_USAGE[d.toLowerCase()]);
  const groups: { usage?: string; root: string }[] = splitDirs.length ? splitDirs.map((d) => ({ usage: SPLIT_USAGE[d.toLowerCase()], root: path.join(dir, d) })) : [{ root: dir }];
  const files: { file: string; label: number; usage?: string }[] = [];
  for (const g of groups) {
    for (const sub of await subdirs(g.root)) {
      const label = emotionIndex(sub);
      if (label < 0) {
        throw new FerError(`${path.join(g.root, sub)}: "${sub}" is not an emotion`, { hint: `name class folders ${EMOTIONS.join(', ')} (or 0..6)` });
      }
      for (const f of (await readdir(path.join(g.root, sub))).sort()) if (IMAGE_EXT.test(f)) files.push({ file: path.join(g.root, sub, f), label, usage: g.usage });
    }
  }
  if (!files.length) {
    throw new FerError(`${dir} holds no images in emotion folders`, {
      hint: `lay it out as ${dir}/<emotion>/*.jpg (or ${dir}/train/<emotion>/*.jpg), emotions ${EMOTIONS.join(', ')}`,
    });
  }
  const take = files.slice(0, options.limit ?? files.length);
  const pixels = new Uint8Array(take.length * PIXELS_PER_IMAGE);
  const labels = new Int8Array(take.length);
  const usage: string[] = [];
  const ids: string[] = [];
  let n = 0;
  let skipped = 0;
  // sharp decodes on libuv's thread pool: a few in flight keeps both cores busy.
  const results = new Array<Promise<Uint8Array | FerError>>(take.length);
  const load = (i: number) => (results[i] = loadFaceImage(take[i].file).catch((e) => e as FerError));
  for (let i = 0; i < Math.min(8, take.length); i++) load(i);
  for (let i = 0; i < take.length; i++) {
    if (i + 8 < take.length) load(i + 8);
    const r = await results[i];
    if (r instanceof Error) {
      if (!options.skipBadRows) throw new FerError(r.message, { hint: 'delete or replace that file, or pass --skip-bad-rows to skip unreadable images' });
      skipped++;
      continue;
    }
    pixels.set(r, n * PIXELS_PER_IMAGE);
    labels[n] = take[i].label;
    if (take[i].usage) usage.push(take[i].usage!);
    ids.push(path.relative(dir, take[i].file));
    n++;
  }
  if (n === 0) throw new FerError(`${dir} holds no readable images (${skipped} unreadable skipped)`, { hint: 'add JPEG or PNG faces to its emotion folders' });
  return {
    pixels: pixels.slice(0, n * PIXELS_PER_IMAGE),
    labels: labels.slice(0, n),
    size: n,
    usage: splitDirs.length ? usage : undefined,
    ids,
    source: dir,
    format: 'image-folder',
    skipped,
  };
}
