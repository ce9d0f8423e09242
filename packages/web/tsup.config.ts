import { packageBuild } from '../../tsup.shared';

// Only the Node side (ensureWebBuild, siteFiles, exportSite, startServer): the browser page in src/app/ is
// vite's, built into dist-page/ (ensureWebBuild). vite is a dev dependency, imported only when the page must
// be built: it stays outside the bundle.
const config = packageBuild({ index: 'src/node/index.ts' });
export default { ...config, external: ['vite'] };
