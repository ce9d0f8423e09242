// Compiles native.c to native_wasm.ts (the modules as base64), so that the package needs no toolchain:
//   apt-get install clang-19 lld-19 && npm install --prefix /tmp/wabt wabt@1.0.39 &&
//   CLANG=/usr/lib/llvm-19/bin/clang WABT=/tmp/wabt/node_modules/wabt node src/backend/native/native.build.mjs
// Two modules: plain WebAssembly SIMD, and relaxed SIMD (-DFER_RELAXED: fused multiply-adds in the matrix
// products; clang 16 or later has relaxed SIMD's final opcodes). native.ts loads the relaxed one where the
// runtime validates it and the plain one elsewhere.
// The modules import tfjs's memory, so they must not use the C stack (which would live in tfjs's heap):
// the build fails if any function touches the stack pointer or a module has data segments.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'fer-native-'));
const clang = process.env.CLANG ?? 'clang';
const require = createRequire(import.meta.url);
const wabt = await require(process.env.WABT ?? 'wabt')();

function build(name, extra) {
  const out = join(tmp, `${name}.wasm`);
  execFileSync(
    clang,
    [
      '--target=wasm32',
      '-O3',
      '-msimd128',
      '-mbulk-memory',
      ...extra,
      '-nostdlib',
      '-fno-builtin',
      '-ffp-contract=off',
      '-Wl,--no-entry',
      '-Wl,--import-memory',
      '-Wl,--strip-all',
      '-o',
      out,
      join(here, 'native.c'),
    ],
    { stdio: 'inherit' },
  );
  const buffer = readFileSync(out);
  const text = wabt.readWasm(buffer, { readDebugNames: false, simd: true, bulk_memory: true, relaxed_simd: true }).toText({});
  if (/global\.(get|set)/.test(text) || /\(data /.test(text)) {
    throw new Error(`native.c (${name}) uses the C stack or static data: the module shares tfjs memory and must not`);
  }
  if (extra.length && !/relaxed_madd/.test(text)) throw new Error('the relaxed build has no f32x4.relaxed_madd: is clang 16 or later?');
  return buffer;
}

const plain = build('plain', []);
const relaxed = build('relaxed', ['-mrelaxed-simd', '-DFER_RELAXED']);
writeFileSync(
  join(here, 'native_wasm.ts'),
  `// Generated from native.c by native.build.mjs; do not edit.\n` +
    `/** sha256 of the native.c this was built from (a test checks it against native.c). */\n` +
    `export const NATIVE_SOURCE_SHA256 = '${createHash('sha256')
      .update(readFileSync(join(here, 'native.c')))
      .digest('hex')}';\n` +
    `/** WebAssembly SIMD. */\n` +
    `export const NATIVE_WASM_BASE64 =\n  '${plain.toString('base64')}';\n` +
    `/** Relaxed SIMD: fused multiply-adds in the matrix products (FER_RELAXED). */\n` +
    `export const NATIVE_RELAXED_WASM_BASE64 =\n  '${relaxed.toString('base64')}';\n`,
);
console.log(`native_wasm.ts: ${plain.length} bytes of plain wasm, ${relaxed.length} of relaxed`);
