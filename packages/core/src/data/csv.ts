import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { FerError } from '../errors.js';
import { PIXELS_PER_IMAGE, NUM_CLASSES } from '../classes.js';
import type { DataFormat, FaceDataset } from './dataset.js';

export interface CsvLoadOptions {
  /** Skip malformed rows (and count them) instead of stopping at the first. */
  skipBadRows?: boolean;
  /** Stop after this many good rows. */
  limit?: number;
}

interface Layout {
  format: DataFormat;
  columns: number;
  label: number; // -1 when absent
  pixels: number;
  usage: number;
  id: number;
}

const FIX_FORMAT = 'expected a header of Kaggle fer2013.csv (emotion,pixels,Usage), NTU train.csv (label,feature) or NTU test.csv (id,feature)';

function detectLayout(header: string, file: string): Layout {
  const names = header.split(',').map((h) => h.trim().replace(/^"|"$/g, '').trim().toLowerCase());
  const at = (...n: string[]) => names.findIndex((x) => n.includes(x));
  const pixels = at('pixels', 'feature', 'features');
  const label = at('emotion', 'label');
  const id = at('id');
  const usage = at('usage');
  let format: DataFormat | undefined;
  if (pixels >= 0 && label >= 0) format = names[pixels] === 'pixels' || usage >= 0 ? 'kaggle-csv' : 'ntu-train-csv';
  else if (pixels >= 0 && id >= 0) format = 'ntu-test-csv';
  if (!format) {
    throw new FerError(`${file}, line 1: the header "${header.slice(0, 80)}" fits no known format`, { hint: FIX_FORMAT });
  }
  return { format, columns: names.length, label, pixels, usage, id };
}

/** Opens a file, gunzipping when its first bytes say gzip (whatever its name). */
export async function openMaybeGzip(file: string): Promise<Readable> {
  const { open } = await import('node:fs/promises');
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code})`, {
      hint: code === 'ENOENT' ? 'check the path given to --data' : undefined,
    });
  }
  const magic = Buffer.alloc(2);
  await fh.read(magic, 0, 2, 0);
  await fh.close();
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    raw.on('error', (e) => gunzip.destroy(e));
    return raw.pipe(gunzip);
  }
  return raw;
}

/**
 * Loads a FER2013-style CSV (Kaggle, NTU train or NTU test; plain or gzipped) into one Uint8Array.
 * The pixel field is parsed byte by byte straight into the output buffer: no per-row strings or
 * number arrays, which is what keeps 28,709 rows inside a few hundred MB and about a second.
 */
export async function loadFer2013Csv(file: string, options: CsvLoadOptions = {}): Promise<FaceDataset> {
  const stream = await openMaybeGzip(file);
  const limit = options.limit ?? Infinity;
  let layout: Layout | undefined;
  let headerBytes: number[] = [];

  let capacity = 4096;
  let pixels = new Uint8Array(capacity * PIXELS_PER_IMAGE);
  let labels = new Int8Array(capacity);
  const usage: string[] = [];
  const ids: string[] = [];
  const interned = new Map<string, string>();
  let rows = 0;
  let skipped = 0;
  let line = 1; // the header is line 1

  // Per-row parse state.
  let field = 0;
  let value = 0;
  let digits = 0;
  let count = 0; // pixels seen in this row
  let bad: string | undefined; // first problem found in this row
  let text: number[] = []; // bytes of the current non-pixel field
  let rowLabel = -1;
  let rowUsage = '';
  let rowId = '';
  let sawAny = false; // any byte in this row
  let badToken: string | undefined; // a pixel that is not an integer, as written
  let badTokenIndex = 0;
  let inBadToken = false;

  const fail = (reason: string) => {
    if (bad === undefined) bad = reason;
  };
  const endTextField = () => {
    const s = String.fromCharCode(...text).trim();
    text = [];
    const L = layout!;
    if (field === L.label) {
      if (!/^\d+$/.test(s) || Number(s) >= NUM_CLASSES) fail(`the label "${s}" is not a class index 0..${NUM_CLASSES - 1}`);
      else rowLabel = Number(s);
    } else if (field === L.usage) {
      if (!interned.has(s)) interned.set(s, s);
      rowUsage = interned.get(s)!;
    } else if (field === L.id) {
      rowId = s;
    }
  };
  const pushPixel = () => {
    if (value > 255) fail(`pixel ${count + 1} is ${value}, outside 0..255`);
    else if (count < PIXELS_PER_IMAGE) pixels[rows * PIXELS_PER_IMAGE + count] = value;
    count++;
    value = 0;
    digits = 0;
  };
  const grow = () => {
    capacity *= 2;
    const p = new Uint8Array(capacity * PIXELS_PER_IMAGE);
    p.set(pixels);
    pixels = p;
    const l = new Int8Array(capacity);
    l.set(labels);
    labels = l;
  };
  const endRow = () => {
    const L = layout!;
    if (!sawAny) return; // blank line
    if (badToken !== undefined) fail(`pixel ${badTokenIndex} "${badToken}" is not an integer 0..255`);
    if (field === L.pixels) {
      if (digits) pushPixel();
    } else endTextField();
    if (field + 1 < L.columns) fail(`it has ${field + 1} column(s), the header has ${L.columns}`);
    else if (field + 1 > L.columns) fail(`it has ${field + 1} columns, the header has ${L.columns}`);
    if (bad === undefined && count !== PIXELS_PER_IMAGE) fail(`it has ${count} pixels, a 48x48 face has ${PIXELS_PER_IMAGE}`);
    if (bad !== undefined) {
      if (!options.skipBadRows) {
        stream.destroy();
        throw new FerError(`${file}, line ${line}: ${bad}`, {
          hint: 'fix or delete that row, or pass --skip-bad-rows to skip malformed rows',
        });
      }
      skipped++;
    } else {
      labels[rows] = L.label >= 0 ? rowLabel : -1;
      if (L.usage >= 0) usage.push(rowUsage);
      if (L.id >= 0) ids.push(rowId);
      rows++;
      if (rows === capacity) grow();
    }
  };
  const resetRow = () => {
    field = 0;
    value = 0;
    digits = 0;
    count = 0;
    bad = undefined;
    text = [];
    rowLabel = -1;
    rowUsage = '';
    rowId = '';
    sawAny = false;
    badToken = undefined;
    inBadToken = false;
  };

  try {
    outer: for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = 0;
      const n = chunk.length;
      if (!layout) {
        for (; i < n && chunk[i] !== 10; i++) headerBytes.push(chunk[i]);
        if (i === n) continue;
        i++; // the newline
        const header = Buffer.from(headerBytes)
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .replace(/\r$/, '');
        headerBytes = [];
        layout = detectLayout(header, file);
        line = 2;
      }
      const L = layout;
      const pixField = L.pixels;
      for (; i < n; i++) {
        const c = chunk[i];
        if (c === 10) {
          endRow();
          resetRow();
          line++;
          if (rows >= limit) break outer;
          continue;
        }
        if (c === 13 || c === 34) continue; // CR of CRLF; quotes around fields carry no meaning here
        sawAny = true;
        if (c === 44) {
          inBadToken = false;
          if (field === pixField) {
            if (digits) pushPixel();
          } else endTextField();
          field++;
          continue;
        }
        if (field === pixField) {
          if (inBadToken && c !== 32 && c !== 9) {
            if (badToken!.length < 24) badToken += String.fromCharCode(c);
          } else if (c >= 48 && c <= 57) {
            value = value * 10 + c - 48;
            digits++;
          } else if (c === 32 || c === 9) {
            inBadToken = false;
            if (digits) pushPixel();
          } else {
            if (badToken === undefined) {
              badToken = (digits ? String(value) : '') + String.fromCharCode(c);
              badTokenIndex = count + 1;
            }
            inBadToken = true;
            value = 0;
            digits = 0;
            count++;
          }
        } else if (text.length < 256) text.push(c);
      }
    }
    if (layout && sawAny && rows < limit) endRow();
  } catch (e) {
    if (e instanceof FerError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerError(`${file}: cannot be read (${code ?? (e as Error).message})`, {
      hint: code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'the gzip data is corrupt or truncated: download it again' : undefined,
      cause: e,
    });
  }
  if (!layout) {
    throw new FerError(`${file} is empty`, { hint: FIX_FORMAT });
  }
  if (rows === 0) {
    throw new FerError(`${file} has a header but no ${skipped ? 'good ' : ''}data rows${skipped ? ` (${skipped} skipped)` : ''}`, {
      hint: 'point --data at a file with faces in it',
    });
  }
  return {
    pixels: pixels.slice(0, rows * PIXELS_PER_IMAGE),
    labels: labels.slice(0, rows),
    size: rows,
    usage: layout.usage >= 0 ? usage : undefined,
    ids: layout.id >= 0 ? ids : undefined,
    source: file,
    format: layout.format,
    skipped,
  };
}
