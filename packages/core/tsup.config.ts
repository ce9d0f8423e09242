import { packageBuild } from '../../tsup.shared';

// The data-parallel worker is its own entry: worker_threads load it by file name (dist/parallel-worker.js).
export default packageBuild({ index: 'src/index.ts', 'parallel-worker': 'src/parallel/worker.ts' });
