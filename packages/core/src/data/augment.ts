import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../classes.js';
import { FerError } from '../errors.js';
import { hash2, mulberry32 } from '../random.js';

/**
 * Training-time augmentation of 48x48 grey faces, on the uint8 pixels of a batch, deterministic in
 * (seed, epoch, row) so that a resumed run sees exactly the batches the uninterrupted one would.
 * Every field off (0 / false / absent) is the report's recipe: no augmentation.
 */
export interface AugmentOptions {
  /** Pad-and-crop: pad by this many pixels (edge-replicated) and crop 48x48 at a random offset; 0: off. */
  crop?: number;
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
  /** Random affine: rotation up to this many degrees either way; 0: off. */
  rotate?: number;
  /** Random affine: scale by up to this fraction either way (0.1: 0.9x..1.1x); 0: off. */
  scale?: number;
  /** Random erasing (Zhong et al.): probability of blanking one random rectangle; 0: off. */
  erase?: number;
  /** Brightness jitter: add up to this fraction of 255 either way; 0: off. */
  brightness?: number;
  /** Contrast jitter: scale around the face's mean by up to this fraction either way; 0: off. */
  contrast?: number;
}

const S = IMAGE_SIZE;
const LAST = S - 1;
/** The image centre: rotation and scale turn about it. */
const CENTRE = LAST / 2;
/** Random erasing's rectangle (Zhong et al.): area 2%..20% of the image, aspect ratio 0.3..3.3 (log-uniform). */
const ERASE_AREA_MIN = 0.02;
const ERASE_AREA_MAX = 0.2;
const ERASE_LOG_RATIO_MIN = Math.log(0.3);
const ERASE_LOG_RATIO_MAX = Math.log(3.3);

// Scratch reused by every call (the training thread is single-threaded; each worker has its own module).
/** The face before the geometric pass, which writes back into the batch. */
const source = new Uint8Array(PIXELS_PER_IMAGE);
/** The integer path's source column for each output column (shift and flip folded in). */
const columns = new Int32Array(S);
/** The photometric pass's per-face lookup table (brightness and contrast are affine in the pixel value). */
const lut = new Uint8Array(256);

/** True when any option would change a face. */
export function isAugmenting(options: AugmentOptions | undefined): boolean {
  if (!options) return false;
  return (
    (options.crop ?? 0) > 0 ||
    options.flip === true ||
    (options.rotate ?? 0) > 0 ||
    (options.scale ?? 0) > 0 ||
    (options.erase ?? 0) > 0 ||
    (options.brightness ?? 0) > 0 ||
    (options.contrast ?? 0) > 0
  );
}

/** A number for humans: at most 6 significant digits, no float noise (0.1 * 100 is "10"). */
function num(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** The options in a few words for logs: "pad-crop 4, flip, rotate ±10°, ..." or "none". */
export function describeAugmentation(options: AugmentOptions | undefined): string {
  if (!options || !isAugmenting(options)) return 'none';
  const parts: string[] = [];
  if ((options.crop ?? 0) > 0) parts.push(`pad-crop ${num(options.crop!)}`);
  if (options.flip === true) parts.push('flip');
  if ((options.rotate ?? 0) > 0) parts.push(`rotate ±${num(options.rotate!)}°`);
  if ((options.scale ?? 0) > 0) parts.push(`scale ±${num(options.scale! * 100)}%`);
  if ((options.erase ?? 0) > 0) parts.push(`erase ${num(options.erase!)}`);
  if ((options.brightness ?? 0) > 0) parts.push(`brightness ±${num(options.brightness!)}`);
  if ((options.contrast ?? 0) > 0) parts.push(`contrast ±${num(options.contrast!)}`);
  return parts.join(', ');
}

function checkRange(flag: string, value: number | undefined, min: number, max: number, what: string, integer = false): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    throw new FerError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${String(value)})`, {
      hint: `${flag} is ${what}; 0 turns it off`,
    });
  }
}

/** Throws a FerError naming the flag (--crop, --rotate, ...) of the first option out of range. */
export function validateAugmentOptions(options: AugmentOptions): void {
  checkRange('--crop', options.crop, 0, 16, 'the pad-and-crop shift in pixels', true);
  if (options.flip !== undefined && typeof options.flip !== 'boolean') {
    throw new FerError(`--flip must be true or false (got ${String(options.flip)})`, { hint: 'pass --flip to mirror half the faces, or leave it out' });
  }
  checkRange('--rotate', options.rotate, 0, 45, 'the largest rotation in degrees either way');
  checkRange('--scale', options.scale, 0, 0.5, 'the largest zoom either way as a fraction (0.1: 0.9x..1.1x)');
  checkRange('--erase', options.erase, 0, 1, 'the probability of erasing one rectangle');
  checkRange('--brightness', options.brightness, 0, 1, 'the largest brightness shift as a fraction of 255');
  checkRange('--contrast', options.contrast, 0, 1, 'the largest contrast change as a fraction');
}

/**
 * Augments `rows.length` faces of `pixels` (48*48 bytes each, face i being dataset row `rows[i]`) in place.
 * Face i's draws depend only on (seed, epoch, rows[i]), never on its place in the batch or the batch's
 * size, so a resumed run and data-parallel workers see the same faces. Each face draws the same
 * sequence of uniforms whatever the options, so turning one option on does not change another's draws.
 *
 * Order: geometric (pad-and-crop shift, flip, rotation, scale: one inverse-mapped transform, bilinear,
 * edge-replicated; an exact integer gather when only crop and flip are on), photometric (brightness,
 * contrast around the face's mean; clamped and rounded), then random erasing (one rectangle filled with
 * the face's mean). With every option off it returns without touching the pixels.
 */
export function augmentBatch(pixels: Uint8Array, rows: ArrayLike<number>, epoch: number, seed: number, options: AugmentOptions): void {
  if (!isAugmenting(options)) return;
  const n = rows.length;
  if (pixels.length < n * PIXELS_PER_IMAGE) {
    throw new RangeError(`augmentBatch: ${n} rows need ${n * PIXELS_PER_IMAGE} bytes of pixels, got ${pixels.length}`);
  }
  const crop = Math.max(0, Math.floor(options.crop ?? 0));
  const flip = options.flip === true;
  const rotate = options.rotate ?? 0;
  const scale = options.scale ?? 0;
  const erase = options.erase ?? 0;
  const brightness = options.brightness ?? 0;
  const contrast = options.contrast ?? 0;
  const affine = rotate > 0 || scale > 0;
  const photometric = brightness > 0 || contrast > 0;
  const epochSeed = hash2(seed, epoch);

  for (let i = 0; i < n; i++) {
    const rng = mulberry32(hash2(epochSeed, rows[i]));
    // A fixed sequence of draws per face, whatever is on.
    const uShiftX = rng();
    const uShiftY = rng();
    const uFlip = rng();
    const uAngle = rng();
    const uScale = rng();
    const uBrightness = rng();
    const uContrast = rng();
    const uErase = rng();
    const uArea = rng();
    const uRatio = rng();
    const uEraseX = rng();
    const uEraseY = rng();

    const off = i * PIXELS_PER_IMAGE;
    const dx = crop > 0 ? Math.floor(uShiftX * (2 * crop + 1)) - crop : 0;
    const dy = crop > 0 ? Math.floor(uShiftY * (2 * crop + 1)) - crop : 0;
    const mirror = flip && uFlip < 0.5;

    if (affine) {
      const theta = (((2 * uAngle - 1) * rotate) / 180) * Math.PI;
      const zoom = 1 + (2 * uScale - 1) * scale;
      affineInto(pixels, off, dx, dy, mirror, theta, zoom);
    } else if (dx !== 0 || dy !== 0 || mirror) {
      shiftInto(pixels, off, dx, dy, mirror);
    }

    if (photometric) {
      const shift = (2 * uBrightness - 1) * brightness * 255;
      const gain = 1 + (2 * uContrast - 1) * contrast;
      let intercept = shift;
      if (contrast > 0) intercept += faceSum(pixels, off) * (1 - gain) * (1 / PIXELS_PER_IMAGE);
      for (let v = 0; v < 256; v++) {
        const t = gain * v + intercept;
        lut[v] = t <= 0 ? 0 : t >= 255 ? 255 : (t + 0.5) | 0;
      }
      const end = off + PIXELS_PER_IMAGE;
      for (let p = off; p < end; p++) pixels[p] = lut[pixels[p]];
    }

    if (erase > 0 && uErase < erase) {
      const area = (ERASE_AREA_MIN + (ERASE_AREA_MAX - ERASE_AREA_MIN) * uArea) * PIXELS_PER_IMAGE;
      const ratio = Math.exp(ERASE_LOG_RATIO_MIN + (ERASE_LOG_RATIO_MAX - ERASE_LOG_RATIO_MIN) * uRatio);
      // h/w = ratio, h*w = area; at most sqrt(0.2 * 2304 * 3.3) = 39 < 48, so it always fits.
      const h = Math.min(S, Math.max(1, Math.round(Math.sqrt(area * ratio))));
      const w = Math.min(S, Math.max(1, Math.round(Math.sqrt(area / ratio))));
      const x0 = Math.floor(uEraseX * (S - w + 1));
      const y0 = Math.floor(uEraseY * (S - h + 1));
      const fill = Math.round(faceSum(pixels, off) / PIXELS_PER_IMAGE);
      for (let y = y0; y < y0 + h; y++) {
        const start = off + y * S + x0;
        pixels.fill(fill, start, start + w);
      }
    }
  }
}

function faceSum(pixels: Uint8Array, off: number): number {
  let sum = 0;
  const end = off + PIXELS_PER_IMAGE;
  for (let p = off; p < end; p++) sum += pixels[p];
  return sum;
}

/** Exact pad-and-crop and flip: output (x, y) is source (clamp(x' + dx), clamp(y + dy)), x' = 47 - x when mirrored. */
function shiftInto(pixels: Uint8Array, off: number, dx: number, dy: number, mirror: boolean): void {
  source.set(pixels.subarray(off, off + PIXELS_PER_IMAGE));
  for (let x = 0; x < S; x++) {
    const sx = (mirror ? LAST - x : x) + dx;
    columns[x] = Math.max(0, Math.min(LAST, sx));
  }
  for (let y = 0; y < S; y++) {
    const from = Math.max(0, Math.min(LAST, y + dy)) * S;
    const to = off + y * S;
    for (let x = 0; x < S; x++) pixels[to + x] = source[from + columns[x]];
  }
}

/**
 * Shift, flip, rotation and scale in one inverse map about the centre: output (x, y) samples the source
 * at centre + (dx, dy) + R(-theta) (u, v) / zoom, with (u, v) = (x, y) - centre and u negated when
 * mirrored; bilinear, with coordinates clamped to the image (edge replication). At theta 0, zoom 1 it
 * is the integer path exactly.
 */
function affineInto(pixels: Uint8Array, off: number, dx: number, dy: number, mirror: boolean, theta: number, zoom: number): void {
  source.set(pixels.subarray(off, off + PIXELS_PER_IMAGE));
  const c = Math.cos(theta) / zoom;
  const s = Math.sin(theta) / zoom;
  const m = mirror ? -1 : 1;
  // d(source)/dx along an output row, and the source point of each row's first pixel.
  const stepX = m * c;
  const stepY = -m * s;
  for (let y = 0; y < S; y++) {
    const v = y - CENTRE;
    const u = m * -CENTRE;
    let sx = CENTRE + dx + c * u + s * v;
    let sy = CENTRE + dy - s * u + c * v;
    const to = off + y * S;
    for (let x = 0; x < S; x++, sx += stepX, sy += stepY) {
      const px = Math.max(0, Math.min(LAST, sx));
      const py = Math.max(0, Math.min(LAST, sy));
      const x0 = px | 0;
      const y0 = py | 0;
      const fx = px - x0;
      const fy = py - y0;
      const r0 = y0 * S;
      const r1 = y0 < LAST ? r0 + S : r0;
      const x1 = x0 < LAST ? x0 + 1 : x0;
      const a = source[r0 + x0];
      const b = source[r0 + x1];
      const top = a + (b - a) * fx;
      const d = source[r1 + x0];
      const bottom = d + (source[r1 + x1] - d) * fx;
      pixels[to + x] = (top + (bottom - top) * fy + 0.5) | 0;
    }
  }
}
