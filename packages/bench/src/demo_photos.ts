/**
 * False detections at a lower minimum score: the faces SSD MobileNet finds on face-api's six demo photos (in its
 * npm package: 22 people, crowds, backgrounds with clutter) at each score, as `fer predict` searches a photo.
 * A face beyond those found at 0.5 would be a false detection (or a face 0.5 missed: the scores say which).
 *
 *   node --conditions=source --import tsx packages/bench/src/demo_photos.ts [--min-score 0.5,0.3,0.2,0.15] [--mirror] [--detector ssd|tiny|blaze]
 *
 * --mirror searches each photo mirrored too (detectFaces' mirror option, `fer predict --mirror`).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FACE_DETECTORS, type FaceDetectorName, detectFaces, loadPhoto, selectBackend } from '@fer/core';
import { demoPhotoFiles, parseScores } from './demo-files.js';

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: { 'min-score': { type: 'string', default: '0.5,0.3,0.2,0.15' }, mirror: { type: 'boolean', default: false }, detector: { type: 'string', default: 'ssd' } },
  });
  const detector = v.detector as FaceDetectorName;
  if (!FACE_DETECTORS.includes(detector)) throw new Error(`--detector: one of ${FACE_DETECTORS.join(', ')}`);
  const scores = parseScores(v['min-score']);
  const backend = await selectBackend('auto');
  const files = await demoPhotoFiles();
  console.log(`backend ${backend.name}; ${detector}${v.mirror ? ' with the mirrored pass' : ''} on ${files.length} photos of ${path.dirname(files[0])}`);
  const totals = scores.map(() => 0);
  for (const f of files) {
    const photo = await loadPhoto(f);
    const row: string[] = [];
    for (const [s, minScore] of scores.entries()) {
      const faces = await detectFaces(photo, { detector, minScore, landmarks: false, mirror: v.mirror });
      totals[s] += faces.length;
      row.push(`${minScore}: ${faces.length} (${faces.map((x) => x.score.toFixed(2)).join(' ')})`);
    }
    console.log(`${path.basename(f)} ${photo.width}x${photo.height}  ${row.join('  ')}`);
  }
  console.log(`faces found: ${scores.map((s, i) => `${totals[i]} at ${s}`).join(', ')}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
