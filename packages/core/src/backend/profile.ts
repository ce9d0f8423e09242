import * as tf from '@tensorflow/tfjs';

/** Time and call count of one kernel, summed over the profiled span. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

export interface KernelProfiler {
  /** Totals since the last reset, slowest first. */
  report(): KernelTime[];
  reset(): void;
  /** Puts the original kernel functions back. */
  stop(): void;
}

/**
 * Times every kernel of a backend by wrapping its registered kernelFunc. tf.profile cannot do this for
 * wasm (it reports the kernels but the wasm backend's timer measures nothing useful), while wasm and cpu
 * kernels run synchronously, so wall time around the call is the kernel's own time. The wrapper is
 * cheap (two performance.now() per kernel) and is removed by stop().
 */
export function profileKernels(backendName: string = tf.getBackend(), opts: { byShape?: boolean } = {}): KernelProfiler {
  const totals = new Map<string, KernelTime>();
  const originals: tf.KernelConfig[] = [];
  // Our kernels call other registered kernels; each call's children are subtracted so that a
  // kernel's row is its self time and the rows add up to the time spent in kernels.
  const childMs: number[] = [];
  for (const cfg of tf.getKernelsForBackend(backendName)) {
    const inner = cfg.kernelFunc;
    const name = cfg.kernelName;
    const row = (args: Parameters<tf.KernelFunc>[0]): KernelTime => {
      const key = opts.byShape
        ? `${name} ${Object.values(args.inputs)
            .map((t) => (t ? `[${(t as tf.TensorInfo).shape}]` : '-'))
            .join(' ')}`
        : name;
      let t = totals.get(key);
      if (!t) {
        t = { kernel: key, ms: 0, calls: 0 };
        totals.set(key, t);
      }
      return t;
    };
    originals.push({ ...cfg });
    // Registry entries are plain objects that the engine looks up per call, so replacing the function
    // in place takes effect at once without unregistering (which would also drop setup/dispose hooks).
    (cfg as { kernelFunc: tf.KernelFunc }).kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
      const t = row(args);
      const s = performance.now();
      childMs.push(0);
      let out: ReturnType<tf.KernelFunc>;
      try {
        out = inner(args);
      } finally {
        const dt = performance.now() - s;
        t.ms += dt - (childMs.pop() as number);
        t.calls++;
        if (childMs.length) childMs[childMs.length - 1] += dt;
      }
      return out;
    }) as tf.KernelFunc;
  }
  return {
    report: () =>
      [...totals.values()]
        .filter((t) => t.calls > 0)
        .map((t) => ({ ...t }))
        .sort((a, b) => b.ms - a.ms),
    reset: () => {
      totals.clear();
    },
    stop: () => {
      for (const o of originals) {
        const cfg = tf.getKernel(o.kernelName, o.backendName);
        if (cfg) (cfg as { kernelFunc: tf.KernelFunc }).kernelFunc = o.kernelFunc;
      }
    },
  };
}

/** The profile as text: one row per kernel with ms per step, calls per step and share of kernel time. */
export function formatKernelProfile(rows: KernelTime[], steps = 1, top = 25): string {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const lines = [`${'kernel'.padEnd(Math.max(28, ...rows.slice(0, top).map((r) => r.kernel.length)))} ${'ms/step'.padStart(9)} ${'calls'.padStart(6)} ${'share'.padStart(6)}`];
  for (const r of rows.slice(0, top)) {
    lines.push(
      `${r.kernel.padEnd(Math.max(28, ...rows.slice(0, top).map((r) => r.kernel.length)))} ${(r.ms / steps).toFixed(2).padStart(9)} ${(r.calls / steps).toFixed(0).padStart(6)} ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`,
    );
  }
  lines.push(`${'total in kernels'.padEnd(Math.max(28, ...rows.slice(0, top).map((r) => r.kernel.length)))} ${(total / steps).toFixed(2).padStart(9)}`);
  return lines.join('\n');
}
