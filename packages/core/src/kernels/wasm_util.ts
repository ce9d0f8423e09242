import * as tf from '@tensorflow/tfjs';

/**
 * Our wasm kernels compose the backend's own kernels (Conv2D, Transpose, ...) directly, as tfjs's
 * kernels do, instead of calling tf ops: no tape, no engine bookkeeping, and intermediates are freed
 * with `backend.disposeData` as soon as they are used.
 */
export type TensorInfo = tf.TensorInfo;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
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

/**
 * A float32 view of a tensor in the wasm heap. Take it after the last makeOutput of a kernel: growing
 * the heap detaches earlier views.
 */
export function heapF32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const off = backend.dataIdMap.get(t.dataId).memoryOffset as number;
  const size = t.shape.reduce((a: number, b: number) => a * b, 1);
  return new Float32Array(backend.wasm.HEAPU8.buffer, off, size);
}
