/**
 * The dependency rules of the monorepo, checked by `pnpm depcheck` (dependency-cruiser) in CI:
 * no import cycles, @fer/core imports no sibling package, and a package uses another only through its
 * public entries (the "exports" of its package.json), never a file inside its src/.
 */
const ENTRIES = '(index|random|face|node/index)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules import each other in a circle: give the shared part a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-sibling',
      severity: 'error',
      comment: '@fer/core is the base: bench, viz, cli and grad-check build on it, not the other way round.',
      from: { path: '^packages/core/' },
      to: { path: '^packages/(bench|viz|cli|grad-check|web)/' },
    },
    {
      name: 'core-face-entry-is-pure',
      severity: 'error',
      comment: "@fer/core/face is bundled into @fer/web's browser page: it may import only the classes and the face geometry (no tfjs, sharp or node).",
      from: { path: '^packages/core/src/(face|detect/geometry|classes)\\.ts$' },
      to: { pathNot: '^packages/core/src/(classes|detect/geometry)\\.ts$' },
    },
    {
      name: 'web-page-is-browser-only',
      severity: 'error',
      comment: "@fer/web's page (src/app, src/shared) runs in the browser: no node modules, no Node side of @fer/web, no @fer/core but its face entry.",
      from: { path: '^packages/web/src/(app|shared)/' },
      to: { path: ['^packages/web/src/node/', '^packages/core/src/(?!face\\.ts$|classes\\.ts$|detect/geometry\\.ts$)', 'sharp', '^(node:)?(fs|path|os|http|module|url|child_process|worker_threads)(/|$)'] },
    },
    {
      name: 'web-node-side-skips-the-page',
      severity: 'error',
      comment: "@fer/web's Node entry serves the built page; it never imports the page's modules (vite bundles them).",
      from: { path: '^packages/web/src/node/' },
      to: { path: '^packages/web/src/app/' },
    },
    {
      name: 'only-public-entries',
      severity: 'error',
      comment: "A package uses another through its package.json exports (@fer/core, @fer/core/random, @fer/core/face, @fer/web), not a file in its src/.",
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/([^/]+)/src/', pathNot: ['^packages/$1/', `^packages/[^/]+/src/${ENTRIES}`] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)dist/', '(^|/)node_modules/'] },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { conditionNames: ['source', 'import', 'require', 'node', 'default'], exportsFields: ['exports'], mainFields: ['module', 'main'] },
    combinedDependencies: false,
  },
};
