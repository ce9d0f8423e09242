import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadDataset } from './load.js';
import { loadFaceImage } from './images.js';

describe('image folders', () => {
  it('reads <split>/<emotion>/ folders of any size and colour as 48x48 grey', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-img-'));
    // A 96x64 colour JPEG (uniform red) and a 48x48 grey PNG (uniform 200).
    mkdirSync(path.join(dir, 'train', 'happy'), { recursive: true });
    mkdirSync(path.join(dir, 'train', 'sad'), { recursive: true });
    mkdirSync(path.join(dir, 'test', 'fear'), { recursive: true });
    await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .jpeg()
      .toFile(path.join(dir, 'train', 'happy', 'a.jpg'));
    await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 200, g: 200, b: 200 } } })
      .greyscale()
      .png()
      .toFile(path.join(dir, 'train', 'sad', 'b.png'));
    await sharp({ create: { width: 20, height: 30, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } })
      .png()
      .toFile(path.join(dir, 'test', 'fear', 'c.png'));
    writeFileSync(path.join(dir, 'train', 'sad', 'notes.txt'), 'ignored');
    const d = await loadDataset(dir);
    expect(d.format).toBe('image-folder');
    expect(d.size).toBe(3);
    expect(d.pixels.length).toBe(3 * 2304);
    // split folders in name order: test/ then train/
    expect(Array.from(d.labels)).toEqual([2, 3, 4]);
    expect(d.usage).toEqual(['PublicTest', 'Training', 'Training']);
    // pure red turns mid-grey: neither black nor white
    expect(d.pixels[2304 + 100]).toBeGreaterThan(40);
    expect(d.pixels[2304 + 100]).toBeLessThan(200);
    expect(d.pixels[2 * 2304 + 100]).toBe(200);
  });

  it('names an unreadable image and a wrongly named class folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fer-img-bad-'));
    mkdirSync(path.join(dir, 'happy'));
    writeFileSync(path.join(dir, 'happy', 'broken.jpg'), 'not a jpeg');
    await expect(loadDataset(dir)).rejects.toThrow(/broken\.jpg is not a readable image/);
    await expect(loadDataset(dir, { skipBadRows: true })).rejects.toThrow(/holds no readable images \(1 unreadable skipped\)/);
    await expect(loadFaceImage(path.join(dir, 'nope.png'))).rejects.toThrow(/nope\.png does not exist/);
    const dir2 = mkdtempSync(path.join(tmpdir(), 'fer-img-bad2-'));
    mkdirSync(path.join(dir2, 'grumpy'));
    await expect(loadDataset(dir2)).rejects.toThrow(/"grumpy" is not an emotion/);
  });
});
