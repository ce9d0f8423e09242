import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerError } from '@fer/core';
import { predictRoute } from './predict-route.js';
import { type SiteFiles, readSiteFile, siteFiles } from './site.js';

/** Content types by file extension (what the site holds). */
export const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  wasm: 'application/wasm',
  bin: 'application/octet-stream',
  png: 'image/png',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
};

export function contentType(urlPath: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(urlPath === '/' ? 'index.html' : urlPath)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

export interface ServerOptions {
  /** Run directories whose models the page averages. */
  runDirs: string[];
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Default 8080; 0 takes any free port. */
  port?: number;
  /**
   * POST /predict: by default predictRoute's handler for the same runs (an image in, fer predict --json's rows
   * out; it computes in Node on the current tfjs backend: call selectBackend first); false mounts none.
   */
  predict?: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | false;
  /** The largest POST /predict body, in bytes (predictRoute's default: 10 MiB). */
  maxBytes?: number;
}

export interface RunningServer {
  /** http://host:port/ as a browser reaches it. */
  url: string;
  host: string;
  port: number;
  server: Server;
  files: SiteFiles;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8080;

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${text}\n`);
}

/**
 * Serves the page and its files (siteFiles) over node:http: GET and HEAD for the site's paths, POST for
 * /predict (predictRoute); 404 for any other path, 405 (with Allow) for any other method.
 * Resolves once listening; a port in use or a host that cannot be bound is a FerError.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new FerError(`the port must be an integer from 0 to 65535 (got ${port})`, { hint: 'e.g. --port 8080, or --port 0 for any free port' });
  const files = await siteFiles(options.runDirs);
  const predict = options.predict === false ? undefined : (options.predict ?? (await predictRoute({ runDirs: options.runDirs, maxBytes: options.maxBytes })));
  const server = createServer(async (req, res) => {
    try {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (urlPath === '/predict' && predict) {
        return await predict(req, res); // its own JSON answers, 405 included
      }
      const f = files.get(urlPath);
      if (!f) return send(res, 404, `not found: ${urlPath}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, `${req.method} is not allowed on ${urlPath}: use GET`, { allow: 'GET, HEAD' });
      const body = await readSiteFile(f);
      res.writeHead(200, {
        'content-type': contentType(urlPath),
        'content-length': String(body.length),
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      if (!res.headersSent) send(res, 500, `error: ${(e as Error).message}`);
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new FerError(`port ${port} on ${host} is in use`, { hint: 'stop what uses it, or choose another with --port N (0: any free port)' })
          : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
            ? new FerError(`cannot listen on ${host}: no such address on this machine`, { hint: 'use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every network)' })
            : e.code === 'EACCES'
              ? new FerError(`not allowed to listen on port ${port}`, { hint: 'ports under 1024 need root: choose --port 8080 or above' })
              : e,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    host,
    port: bound,
    server,
    files,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
