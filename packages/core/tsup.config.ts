import { defineConfig } from 'tsup';

export default defineConfig({
  // The data-parallel worker is its own entry: worker_threads load it by file name (dist/parallel-worker.js).
  entry: { index: 'src/index.ts', 'parallel-worker': 'src/parallel/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
