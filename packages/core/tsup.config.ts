import { packageBuild } from '../../tsup.shared';

// The data-parallel worker is its own entry: worker_threads load it by file name (dist/parallel-worker.js).
// random is its own entry too (`@fer/core/random`): the math verifier uses it without tfjs; and face (`@fer/core/face`):
// the classes and face geometry, for @fer/web's browser page (no tfjs, sharp or node).
export default packageBuild({ index: 'src/index.ts', random: 'src/random.ts', face: 'src/face.ts', 'parallel-worker': 'src/training/parallel/worker.ts' });
