// The WebAssembly backend in browsers (package.json "browser" puts this file in place of wasm-backend.ts): the
// module's bytes are embedded (src/generated/wasm-bytes.ts, generated with it), so a bundler needs no loader or asset
// setting. Browsers may refuse to compile a module synchronously on the main thread, so it is compiled by
// ready() (await it once before the first call); until then the package runs its TypeScript backend.
import { wasmFromBytes } from './wasm-kernel';
import type { WasmLoad } from './wasm-kernel';
import { WASM_BASE64 } from '../generated/wasm-bytes';

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let compiled: WasmLoad | null = null;

/** Not compiled yet at load time: ready() does it. */
export function loadWasm(): WasmLoad {
  return compiled ?? { passes: null, error: 'not compiled yet: await ready() first' };
}

/** Compiles the embedded module off the main thread (WebAssembly.compile), once. */
export async function loadWasmAsync(): Promise<WasmLoad> {
  if (compiled !== null) return compiled;
  try {
    const bytes = decodeBase64(WASM_BASE64);
    const module = await WebAssembly.compile(bytes);
    compiled = wasmFromBytes(bytes, () => module);
  } catch (err) {
    compiled = { passes: null, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
  return compiled;
}
