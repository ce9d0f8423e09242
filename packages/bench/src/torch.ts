import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One row of the PyTorch reference. */
export interface TorchRow {
  batch: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
}

/** torch_bench.py, at the package's root: beside src/ when running from source, beside dist/ when built. */
export function torchScript(): string | undefined {
  // tsup's shims give the CommonJS build an import.meta.url too
  const file = fileURLToPath(new URL('../torch_bench.py', import.meta.url));
  return existsSync(file) ? file : undefined;
}

/** The first of python3, python on PATH, or undefined. */
export function findPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['python3', 'python']) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/** Runs a program to its end and captures its output; never throws. */
export function execCapture(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
  });
}

/** Whether the PyTorch reference can run with this Python (default: python3 on PATH); the reason when not. */
export async function torchAvailable(python = findPython()): Promise<string | undefined> {
  if (!python) return 'no python3 on PATH (pass --python FILE)';
  if (!torchScript()) return 'torch_bench.py not found beside the package';
  const r = await execCapture(python, ['-c', 'import torch'], 60_000);
  return r.code === 0 ? undefined : `${python} cannot import torch (on Debian: apt-get install python3-torch)`;
}

/** PyTorch's images/s for the seed CNN at one batch size (torch_bench.py). */
export async function torchBench(python: string, batch: number, seconds: number): Promise<{ row: TorchRow; version: string; threads: number }> {
  const r = await execCapture(python, [torchScript()!, '--batches', String(batch), '--seconds', String(seconds)], 600_000);
  if (r.code !== 0) throw new Error(`torch_bench.py failed: ${r.stderr.trim().split('\n').pop()}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; results: TorchRow[] };
  return { row: out.results[0], version: out.torch, threads: out.threads };
}
