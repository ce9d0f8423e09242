// pnpm --filter @fer/web build:page: builds the browser page into dist-page/ (what fer serve does on its own
// when the page is missing or older than its sources).
import { ensureWebBuild } from '../src/node/build.js';

const t = performance.now();
const dir = await ensureWebBuild({ force: true });
console.log(`built ${dir} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
