import { packageBuild } from '../../tsup.shared';

// The data-parallel worker is its own entry: worker_threads load it by file name (dist/parallel-worker.js).
// random is its own entry too (`@fer/core/random`): the math verifier uses it without tfjs.
export default packageBuild({ index: 'src/index.ts', random: 'src/random.ts', 'parallel-worker': 'src/training/parallel/worker.ts' });
