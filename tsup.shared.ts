import { defineConfig, type Options } from 'tsup';

/** Every package builds alike: ESM + CJS + .d.ts for Node 20 (`shims` gives CJS its import.meta.url). */
export function packageBuild(entry: Options['entry']) {
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, shims: true, sourcemap: true, clean: true, target: 'node20' });
}
