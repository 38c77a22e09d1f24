import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const kernelsWatPath = fileURLToPath(new URL('../src/ml/gbdt/kernels.wat', import.meta.url));
export const kernelsWasmPath = fileURLToPath(new URL('../src/ml/gbdt/kernels.wasm', import.meta.url));

/** The binary of kernels.wat, as wabt assembles it (no debug names: the bytes depend on the source only). */
export async function assembleKernels(): Promise<Uint8Array> {
  const tools = await wabt();
  const module = tools.parseWat('kernels.wat', await readFile(kernelsWatPath, 'utf8'));
  try {
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
