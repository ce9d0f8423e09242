import * as tf from '@tensorflow/tfjs';

/**
 * Our wasm kernels compose the backend's own kernels (Conv2D, Transpose, ...) directly, as tfjs's
 * kernels do, instead of calling tf ops: no tape, no engine bookkeeping, and intermediates are freed
 * with `backend.disposeData` as soon as they are used.
 */
export type TensorInfo = tf.TensorInfo;
// biome-ignore lint/suspicious/noExplicitAny: tfjs-backend-wasm exports no type for its backend; kernels use its internals
export type WasmBackend = any;

export function callKernel(name: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered`);
  return k.kernelFunc({ inputs, backend, attrs } as never) as TensorInfo;
}

export function transposeInfo(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return callKernel('Transpose', backend, { x }, { perm });
}

export function dispose(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** Byte offset of a tensor in the wasm heap. */
export function offsetOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset as number;
}

/**
 * A loader for one of our WebAssembly modules (simd.wat, native.c) that imports the tfjs wasm backend's
 * memory as env.memory and works on its tensors in place: compiled once, synchronously (kernels are
 * synchronous), instantiated once per backend memory. The loader returns undefined where the module
 * cannot load (no WebAssembly SIMD, a backend without a heap); callers then take another path.
 */
export function heapModuleLoader<T>(base64: string, bind: (exports: Record<string, (...a: number[]) => void>) => T): (backend: WasmBackend) => T | undefined {
  let compiled: WebAssembly.Module | undefined;
  const instances = new WeakMap<WebAssembly.Memory, T | null>();
  return (backend) => {
    const memory = backend.wasm?.asm?.memory as WebAssembly.Memory | undefined;
    if (!memory) return undefined;
    let k = instances.get(memory);
    if (k === undefined) {
      try {
        compiled ??= new WebAssembly.Module(Uint8Array.from(Buffer.from(base64, 'base64')));
        k = bind(new WebAssembly.Instance(compiled, { env: { memory } }).exports as Record<string, (...a: number[]) => void>);
      } catch {
        k = null;
      }
      instances.set(memory, k);
    }
    return k ?? undefined;
  };
}

/**
 * A float32 view of a tensor in the wasm heap. Take it after the last makeOutput of a kernel: growing
 * the heap detaches earlier views.
 */
export function heapF32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const size = t.shape.reduce((a: number, b: number) => a * b, 1);
  return new Float32Array(backend.wasm.HEAPU8.buffer, offsetOf(backend, t), size);
}
