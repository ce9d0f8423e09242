/**
 * One data-parallel training worker: builds the same model, takes the main thread's weights and a
 * share of the batch, and answers with the gradients (and the BatchNorm moving statistics its
 * forward pass produced). Runs from TypeScript source (tsx), from the tsup build and under vitest.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendChoice } from '../../backend/select.js';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from '../../classes.js';
import { buildModel } from '../../models/index.js';
import { batchGradients, packWeights, unpackWeights } from '../gradients.js';
import type { PredictReply, PredictRequest, StepReply, StepRequest, WorkerInit } from './protocol.js';

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  await selectBackend(init.backend as BackendChoice);
  const model = buildModel(init.modelName, init.modelOptions);
  const port = parentPort!;

  port.on('message', (msg: StepRequest | PredictRequest | { type: 'close' }) => {
    if (msg.type === 'close') {
      tf.disposeVariables();
      port.close();
      return;
    }
    if (msg.type === 'predict') {
      if (msg.weights) unpackWeights(model, msg.weights);
      const n = msg.x.length / PIXELS_PER_IMAGE;
      const logits = tf.tidy(() => (model.predict(tf.tensor4d(msg.x, [n, IMAGE_SIZE, IMAGE_SIZE, 1]), { batchSize: n }) as tf.Tensor).dataSync() as Float32Array);
      const reply: PredictReply = { type: 'predict', logits };
      port.postMessage(reply, [logits.buffer as ArrayBuffer]);
      return;
    }
    const t0 = performance.now();
    unpackWeights(model, msg.weights);
    const { loss, correct, grads } = batchGradients(model, msg.x, msg.labels, init.loss, msg.soft);
    const total = grads.reduce((s, g) => s + g.size, 0);
    const packed = new Float32Array(total);
    let o = 0;
    for (const g of grads) {
      packed.set(g.dataSync() as Float32Array, o);
      o += g.size;
      g.dispose();
    }
    const state = packWeights(model, true);
    const reply: StepReply = { type: 'step', loss, correct, grads: packed, weights: state, numTensors: tf.memory().numTensors, ms: performance.now() - t0 };
    port.postMessage(reply, [packed.buffer as ArrayBuffer, state.buffer as ArrayBuffer]);
  });
  port.postMessage({ type: 'ready', backend: tf.getBackend() });
}

// No top-level await: the build also emits this file as CommonJS.
main().catch((e: Error) => parentPort!.postMessage({ type: 'error', message: e.stack ?? e.message }));
