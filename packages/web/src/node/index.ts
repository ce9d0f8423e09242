// @fer/web's Node side: build the page, list its files, export them as a static site, serve them.
// The browser page itself (src/app/) is vite's and never imported here.
export { ensureWebBuild, pageDir, viteConfig, webPackageDir } from './build.js';
export { DEFAULT_PORT, type RunningServer, type ServerOptions, contentType, startServer } from './server.js';
export { DETECTOR_MODELS, type SiteFile, type SiteFiles, WASM_FILES, exportSite, readSiteFile, siteFileSize, siteFiles } from './site.js';
export type { SiteJson } from '../shared/site-json.js';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_QUEUE, type PredictHandler, type PredictRouteOptions, predictRoute } from './predict-route.js';
