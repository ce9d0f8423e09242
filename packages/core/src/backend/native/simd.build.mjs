// Compiles simd.wat to simd_wasm.ts (the module as base64), so that the package needs no toolchain:
//   npm install --prefix /tmp/wabt wabt@1.0.39 && WABT=/tmp/wabt/node_modules/wabt node src/backend/native/simd.build.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const wabt = await require(process.env.WABT ?? 'wabt')();
const source = readFileSync(join(here, 'simd.wat'), 'utf8');
const mod = wabt.parseWat('simd.wat', source, { simd: true });
mod.validate();
const { buffer } = mod.toBinary({});
const b64 = Buffer.from(buffer).toString('base64');
writeFileSync(join(here, 'simd_wasm.ts'), `// Generated from simd.wat by simd.build.mjs; do not edit.\nexport const SIMD_WASM_BASE64 =\n  '${b64}';\n`);
console.log(`simd_wasm.ts: ${buffer.length} bytes of wasm`);
