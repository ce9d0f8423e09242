import path from 'node:path';
import { convLayers, loadFaceImage, loadRunModel, readRunJson, runValidationData } from '@fer/core';
import { filtersToDir } from '@fer/viz';
import type { Command } from '../command.js';
import { backendFlag, intFlag, numberFlag, parseFlags, runDirFlag, userPath } from '../args.js';

const USAGE = `usage: fer filters --run DIR [--layer N] [--count 10] [--image face.jpg]

What conv filters respond to, in DIR/filters/:
  maximized.png   the input each of --count random filters of conv layer --layer responds to most
                  (gradient ascent from noise with jitter, total-variation and blur regularisation)
  responses.png   the responses of --count random filters of the 4th conv layer (the report's; the
                  last one if the model has fewer) to one face: --image, or the first validation face

  --run DIR           a run directory from \`fer train\`
  --layer N           conv layer for activation maximisation, 1-based (default: the last)
  --count N           filters to show (default 10)
  --steps N           gradient-ascent steps (default 120)
  --lr X              ascent step size (default 0.05)
  --image FILE        the face for the responses (any image format or size)
  --seed N            which random filters (default 0)
  --out DIR           where to write (default DIR/filters)
  --backend NAME      auto (default), node, wasm or cpu`;

export const filters: Command = {
  name: 'filters',
  summary: 'activation maximisation of conv filters, and filter responses to a face',
  usage: USAGE,
  async execute(argv) {
    const { values: v } = await parseFlags(
      argv,
      {
        run: { type: 'string' },
        layer: { type: 'string' },
        count: { type: 'string' },
        steps: { type: 'string' },
        lr: { type: 'string' },
        image: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string' },
      },
      'filters',
    );
    const runDir = runDirFlag(v.run, 'fer filters --run runs/viz-seed');
    const count = intFlag('count', v.count, 10, 1, 64);
    const steps = intFlag('steps', v.steps, 120, 1, 5000);
    const lr = numberFlag('lr', v.lr, 0.05, 0, 10);
    const seed = intFlag('seed', v.seed, 0, 0);
    const backend = await backendFlag(v.backend);
    console.log(`backend: ${backend.name} (${backend.reason})`);
    const model = await loadRunModel(runDir);
    const convs = convLayers(model);
    const layer = v.layer === undefined ? undefined : intFlag('layer', v.layer, convs.length, 1, convs.length);
    let face: { pixels: Uint8Array; name: string; label?: number } | undefined;
    if (v.image) face = { pixels: await loadFaceImage(userPath(v.image)), name: path.basename(v.image) };
    else {
      try {
        const val = await runValidationData((await readRunJson(runDir)).config);
        face = { pixels: val.pixels.subarray(0, 2304), name: 'first validation face', label: val.labels[0] };
      } catch (e) {
        console.log(`no face for the responses (${(e as Error).message}); pass --image FILE`);
      }
    }
    console.log(`model: ${model.name}, conv layers ${convs.map((c) => c.name).join(', ')}`);
    const outDir = v.out ? userPath(v.out) : path.join(runDir, 'filters');
    const t0 = performance.now();
    const r = await filtersToDir(model, outDir, { layer, count, seed, face, maximize: { steps, learningRate: lr }, onProgress: (w) => console.log(`  ${w}...`) });
    console.log(`\nwrote ${r.maximized}${r.responses ? `\nwrote ${r.responses}` : ''}\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  },
};
