import path from 'node:path';
import {
  FerError,
  PIXELS_PER_IMAGE,
  facesToExplain,
  pickConvLayer,
  SALIENCY_METHODS,
  SALIENCY_METHOD_TITLES,
  loadFaceImage,
  loadRunModel,
  readRunJson,
  runValidationData,
  subset,
  type FaceDataset,
  type SaliencyMethod,
} from '@fer/core';
import { saliencyToDir } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, choiceFlag, intFlag, parseFlags, runDirFlag, userPath } from '../args.js';

const USAGE = `usage: fer saliency --run DIR [--method vanilla|smoothgrad|gradcam|ig|all] [--images a.jpg b.png ...]

Saliency maps: which pixels the model's class score depends on. For one face of each of the 7 classes
from the run's validation split (or the given images), one grid PNG per method with face, map and overlay,
in DIR/saliency/. On synthetic faces it also scores each method: the share of saliency inside the eyes,
brows and mouth divided by their share of the image (1.0 = random), into DIR/saliency/scores.json.

  --run DIR           a run directory from \`fer train\` (seed or simple model)
  --method NAME       vanilla (gradient), smoothgrad, gradcam (last conv layer), ig (Integrated
                      Gradients, blurred-face baseline), or all (default)
  --images FILES...   explain these images instead (any format or size), each for its predicted class
  --gradcam-layer N   conv layer for Grad-CAM, 1-based (default: the last)
  --score-faces N     faces per class for the mask score (default 5; 0 skips it)
  --out DIR           where to write (default DIR/saliency)
  --backend NAME      auto (default), node, wasm or cpu`;

export const saliency: Command = {
  name: 'saliency',
  summary: 'saliency maps (vanilla, SmoothGrad, Grad-CAM, Integrated Gradients) and their mask scores',
  usage: USAGE,
  async execute(argv) {
    const { values: v, positionals } = await parseFlags(
      argv,
      {
        run: { type: 'string' },
        method: { type: 'string' },
        images: { type: 'boolean' },
        'score-faces': { type: 'string' },
        'gradcam-layer': { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string' },
      },
      'saliency',
      true,
    );
    const runDir = runDirFlag(v.run, 'fer saliency --run runs/viz-simple');
    if (positionals.length && !v.images) throw new FerError(`unexpected argument "${positionals[0]}"`, { hint: 'put image files after --images' });
    if (v.images && !positionals.length) throw new FerError('--images needs at least one image file');
    const method = choiceFlag('method', v.method, [...SALIENCY_METHODS, 'all'] as const, 'all');
    const methods: SaliencyMethod[] = method === 'all' ? [...SALIENCY_METHODS] : [method];
    const scorePerClass = intFlag('score-faces', v['score-faces'], 5, 0, 100);
    const gradcamLayer = v['gradcam-layer'] === undefined ? undefined : intFlag('gradcam-layer', v['gradcam-layer'], 0, 1);
    const backend = await backendFlag(v.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);
    const model = await loadRunModel(runDir);
    // explaining given images needs no run.json; the run's own faces do
    const run = v.images ? await readRunJson(runDir, { optional: true }) : await readRunJson(runDir);

    let val: FaceDataset | undefined;
    let faces: FaceDataset;
    let names: string[] | undefined;
    if (v.images) {
      const files = positionals.map(userPath);
      const pixels = new Uint8Array(files.length * PIXELS_PER_IMAGE);
      for (let i = 0; i < files.length; i++) pixels.set(await loadFaceImage(files[i]), i * PIXELS_PER_IMAGE);
      faces = { pixels, labels: new Int8Array(files.length).fill(-1), size: files.length, source: 'images', format: 'image-folder', skipped: 0 };
      names = positionals.map((p) => path.basename(p));
      if (run?.config.data === 'synthetic' && scorePerClass > 0) val = await runValidationData(run.config);
    } else {
      val = await runValidationData(run!.config);
      faces = subset(val, await facesToExplain(model, val));
    }
    console.log(`model: ${model.name}; faces: ${names ? names.join(', ') : `one per class from ${val!.source}`}`);
    const outDir = v.out ? userPath(v.out) : path.join(runDir, 'saliency');
    const t0 = performance.now();
    const r = await saliencyToDir(model, faces, outDir, {
      methods,
      names,
      scoreData: scorePerClass > 0 ? val : undefined,
      scorePerClass,
      methodOptions: gradcamLayer ? { gradcam: { layer: gradcamLayer } } : undefined,
      onProgress: (w) => console.log(`  ${w}...`),
    });
    console.log('');
    for (const m of methods) {
      const score = r.scores?.[m];
      console.log(
        `${SALIENCY_METHOD_TITLES[m].padEnd(21)} ${path.relative(process.env.INIT_CWD ?? process.cwd(), r.grids[m])}${score !== undefined ? `   mask score ${score.toFixed(2)}` : ''}`,
      );
    }
    if (methods.includes('gradcam')) {
      const layer = pickConvLayer(model, gradcamLayer);
      const side = (layer.outputShape as number[])[1];
      console.log(
        `Grad-CAM works on ${layer.name}'s ${side}x${side} feature maps: each cell covers ${Math.round(48 / side)}x${Math.round(48 / side)} pixels, so it says where, not which pixel`,
      );
    }
    if (r.scores)
      console.log(
        `\nmask score: saliency share inside eyes, brows and mouth / their area share, on ${r.scoreFaces} synthetic faces (1.0 = random); written to ${path.join(outDir, 'scores.json')}`,
      );
    else if (scorePerClass > 0) console.log('\nmask score: not computed (it needs synthetic faces with feature masks; this run trained on real data)');
    console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  },
};
