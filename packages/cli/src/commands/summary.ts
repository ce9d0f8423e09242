import { buildModel, formatSummary, loadModel, MODEL_NAMES, MODELS, selectBackend, summarizeModel } from '@fer/core';
import path from 'node:path';
import type { Command } from '../command.js';
import { choiceFlag, parseFlags, userPath } from '../args.js';

export const summary: Command = {
  name: 'summary',
  summary: "print a model's layer table: output shapes, trainable and non-trainable parameters",
  usage: `usage: fer summary [--model ${MODEL_NAMES.join('|')}] [--run DIR] [--json]

  --model NAME  which model to build (default seed):
${MODEL_NAMES.map((n) => `                  ${n.padEnd(7)} ${MODELS[n].description}`).join('\n')}
  --run DIR     summarise the model saved in a run directory instead
  --json        print the table as JSON`,
  async execute(argv) {
    const { values } = await parseFlags(argv, { model: { type: 'string' }, run: { type: 'string' }, json: { type: 'boolean' } }, 'summary');
    await selectBackend('cpu'); // building a model needs no speed
    const model = values.run ? await loadModel(path.join(userPath(values.run), 'model')) : buildModel(choiceFlag('model', values.model, MODEL_NAMES, 'seed'));
    const s = summarizeModel(model);
    console.log(values.json ? JSON.stringify(s, null, 2) : formatSummary(s));
    return 0;
  },
};
