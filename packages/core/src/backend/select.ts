import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import util from 'node:util';
import { FerError } from '../errors.js';
import { nativeBuild } from './native/native.js';
import { registerFerOps, registerWasmTrainingKernels } from './registry.js';

export const BACKEND_CHOICES = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** What the user asked for. */
  requested: BackendChoice;
  /** The tfjs backend in use: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  name: string;
  /** Why this one: printed, and stored in run.json. */
  reason: string;
  simd?: boolean;
  threads?: number;
}

// tfjs's own "install tfjs-node" banner is noise here: we print what we chose and why.
tf.env().set('PROD', true);

const require = createRequire(import.meta.url);

/** Loads @tensorflow/tfjs-node if it installed; returns why not otherwise. */
async function tryNode(): Promise<string | undefined> {
  // tfjs-node 4.22 calls util.isNullOrUndefined, which Node 23 removed.
  const u = util as unknown as Record<string, unknown>;
  u.isNullOrUndefined ??= (v: unknown) => v === null || v === undefined;
  u.isArray ??= Array.isArray;
  try {
    require('@tensorflow/tfjs-node');
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    if (/tfjs_binding\.node/.test(msg)) return '@tensorflow/tfjs-node is installed without its native addon (its install could not download libtensorflow)';
    return /Cannot find module '@tensorflow\/tfjs-node'/.test(msg) ? '@tensorflow/tfjs-node is not installed' : `@tensorflow/tfjs-node did not load (${msg.slice(0, 160)})`;
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return '@tensorflow/tfjs-node loaded but its backend did not start';
  } catch (e) {
    return `@tensorflow/tfjs-node backend failed: ${(e as Error).message}`;
  }
  return undefined;
}

async function tryWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend did not start';
    await tf.ready();
  } catch (e) {
    return `the wasm backend failed: ${(e as Error).message}`;
  }
  return undefined;
}

let current: BackendInfo | undefined;

/**
 * Chooses and starts a backend. `auto` prefers native TensorFlow (tfjs-node), then wasm with our
 * training kernels, then the pure-JS cpu backend (correct but about a thousand times slower).
 */
export async function selectBackend(requested: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(requested)) {
    throw new FerError(`unknown backend "${requested}"`, { hint: `choose one of: ${BACKEND_CHOICES.join(', ')}` });
  }
  if (current && current.requested === requested && tf.getBackend() === current.name) return current;
  let info: BackendInfo | undefined;
  const notes: string[] = [];
  if (requested === 'auto' || requested === 'node') {
    const why = await tryNode();
    if (!why) info = { requested, name: 'tensorflow', reason: 'native TensorFlow from @tensorflow/tfjs-node' };
    else if (requested === 'node') {
      throw new FerError(`--backend node is not available: ${why}`, {
        hint: 'tfjs-node downloads libtensorflow when it installs and needs internet then (and Node < 23); use --backend auto to fall back to wasm',
      });
    } else notes.push(why);
  }
  if (!info && (requested === 'auto' || requested === 'wasm')) {
    const why = await tryWasm();
    if (!why) {
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      info = {
        requested,
        name: 'wasm',
        reason: `${requested === 'auto' ? `${notes.join('; ')}, so ` : ''}WebAssembly${simd ? ' with SIMD' : ''} with fer's training kernels (Winograd convolutions, native first layer, dense layers and Adam${simd && nativeBuild() === 'relaxed' ? '; relaxed SIMD: fused multiply-adds' : ''})`,
        simd,
        threads: 1,
      };
    } else if (requested === 'wasm') throw new FerError(`--backend wasm is not available: ${why}`, { hint: 'use --backend cpu' });
    else notes.push(why);
  }
  if (!info) {
    await tf.setBackend('cpu');
    info = { requested, name: 'cpu', reason: requested === 'cpu' ? 'asked for: pure-JS reference backend' : `${notes.join('; ')}, so the pure-JS cpu backend (slow)` };
  }
  registerFerOps(tf.getBackend());
  current = info;
  return info;
}
