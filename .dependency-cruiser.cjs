/**
 * The dependency rules of the monorepo, checked by `pnpm depcheck` (dependency-cruiser) in CI:
 * no import cycles, @fer/core imports no sibling package, and a package uses another only through its
 * public entries (the "exports" of its package.json), never a file inside its src/.
 */
const ENTRIES = '(index|random)\\.ts$';

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
      to: { path: '^packages/(bench|viz|cli|grad-check)/' },
    },
    {
      name: 'only-public-entries',
      severity: 'error',
      comment: "A package uses another through its package.json exports (@fer/core, @fer/core/random), not a file in its src/.",
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
