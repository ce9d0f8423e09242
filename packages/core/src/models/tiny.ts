import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from '../classes.js';

/**
 * A two-conv chain CNN (conv 4, ReLU, pool, conv 6, ReLU, global average pool, 7 logits): the shape of the
 * report's nets at a few hundred parameters, so that a pipeline (training, saliency, the report) runs in
 * seconds. For tests and smoke runs; it does not learn FER2013 well.
 */
export function tinyCnn(options: { seed?: number } = {}): tf.Sequential {
  const seed = options.seed ?? 1;
  const m = tf.sequential({ name: 'tiny' });
  m.add(
    tf.layers.conv2d({
      inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      name: 'conv1',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(tf.layers.reLU({ name: 'relu1' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(
    tf.layers.conv2d({
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      name: 'conv2',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      biasInitializer: tf.initializers.constant({ value: 0.05 }),
    }),
  );
  m.add(tf.layers.reLU({ name: 'relu2' }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  m.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }));
  return m;
}
