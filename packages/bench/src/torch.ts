import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One row of the PyTorch reference. */
export interface TorchRow {
  batch: number;
  /** torch.get_num_threads() during the run. */
  threads?: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
}

/** torch_bench.py, at the package's root: beside src/ when running from source, beside dist/ when built. */
export function torchScript(): string | undefined {
  // tsup's shims give the CommonJS build an import.meta.url too
  const file = fileURLToPath(new URL('../torch_bench.py', import.meta.url));
  return existsSync(file) ? file : undefined;
}

/** Every python3 and python on PATH, in PATH order (a pyenv shim may come before the system's). */
export function pythonsOnPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['python3', 'python']) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        if (!found.includes(file)) found.push(file);
      } catch {
        /* not here */
      }
    }
  }
  return found;
}

/** The first Python on PATH that imports torch, or undefined. */
export async function findPython(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const python of pythonsOnPath(env)) if ((await execCapture(python, ['-c', 'import torch'], 60_000)).code === 0) return python;
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

/** Whether the PyTorch reference can run with this Python (default: the first on PATH that imports torch); the reason when not. */
export async function torchAvailable(python?: string): Promise<string | undefined> {
  if (!torchScript()) return 'torch_bench.py not found beside the package';
  if (!python) {
    const tried = pythonsOnPath();
    if (!tried.length) return 'no python3 on PATH (pass --python FILE)';
    if (!(await findPython())) return `no Python on PATH imports torch (tried ${tried.join(', ')}; on Debian: apt-get install python3-torch, or pass --python FILE)`;
    return undefined;
  }
  const r = await execCapture(python, ['-c', 'import torch'], 60_000);
  return r.code === 0 ? undefined : `${python} cannot import torch (on Debian: apt-get install python3-torch)`;
}

/**
 * PyTorch's images/s for a model (torch_bench.py --model: seed or vgg) at one batch size. `threads`:
 * 'default' leaves torch's own thread count, 'all' sets torch.set_num_threads(os.cpu_count()).
 */
export async function torchBench(
  python: string,
  batch: number,
  seconds: number,
  opts: { model?: string; threads?: 'default' | 'all' } = {},
): Promise<{ row: TorchRow; version: string; threads: number }> {
  const args = [torchScript()!, '--model', opts.model ?? 'seed', '--batches', String(batch), '--seconds', String(seconds)];
  if (opts.threads === 'all') args.push('--threads', 'all');
  const r = await execCapture(python, args, 600_000);
  if (r.code !== 0) throw new Error(`torch_bench.py failed: ${r.stderr.trim().split('\n').pop()}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { torch: string; threads: number; results: TorchRow[] };
  return { row: { ...out.results[0], threads: out.threads }, version: out.torch, threads: out.threads };
}

/** The models torch_bench.py defines (its --model choices). */
export const TORCH_MODELS: readonly string[] = ['seed', 'vgg'];
