// Compiles native.c to native_wasm.ts (the module as base64), so that the package needs no toolchain:
//   apt-get install clang lld && npm install --prefix /tmp/wabt wabt@1.0.39 &&
//   WABT=/tmp/wabt/node_modules/wabt node src/backend/native/native.build.mjs
// The module imports tfjs's memory, so it must not use the C stack (which would live in tfjs's heap):
// the build fails if any function touches the stack pointer or the module has data segments.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'fer-native-')), 'native.wasm');
execFileSync(
  'clang',
  [
    '--target=wasm32',
    '-O3',
    '-msimd128',
    '-mbulk-memory',
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
const require = createRequire(import.meta.url);
const wabt = await require(process.env.WABT ?? 'wabt')();
const text = wabt.readWasm(buffer, { readDebugNames: false, simd: true, bulk_memory: true }).toText({});
if (/global\.(get|set)/.test(text) || /\(data /.test(text)) {
  throw new Error('native.c uses the C stack or static data: the module shares tfjs memory and must not');
}
writeFileSync(
  join(here, 'native_wasm.ts'),
  `// Generated from native.c by native.build.mjs; do not edit.\n` +
    `/** sha256 of the native.c this was built from (a test checks it against native.c). */\n` +
    `export const NATIVE_SOURCE_SHA256 = '${createHash('sha256')
      .update(readFileSync(join(here, 'native.c')))
      .digest('hex')}';\n` +
    `export const NATIVE_WASM_BASE64 =\n  '${buffer.toString('base64')}';\n`,
);
console.log(`native_wasm.ts: ${buffer.length} bytes of wasm`);
