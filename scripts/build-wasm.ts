/**
 * `npm run build:wasm`: assembles src/ml/gbdt/kernels.wat into kernels.wasm, the binary the
 * trainer loads. The binary is committed (keel runs its TypeScript without a build step);
 * test/unit/gbdt-wasm-kernels.test.ts fails when it is not this source's. wabt is pinned to one
 * version in package.json, so the same source always gives the same bytes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { assembleKernels, kernelsWasmPath } from './wasm-assembly';

await writeFile(kernelsWasmPath, await assembleKernels());
process.stdout.write(`wrote ${kernelsWasmPath} (${(await readFile(kernelsWasmPath)).byteLength} bytes)\n`);
