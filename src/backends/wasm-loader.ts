// Loads the WebAssembly backend in Node, Deno and Bun from the package's file, synchronously (a few ms).
// Browsers get src/backends/wasm-loader.browser.ts instead (package.json "browser"), which embeds the module.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './native-loader';
import { wasmFromBytes } from './wasm-kernel';
import type { WasmLoad } from './wasm-kernel';

/** The wasm kernel from native/wasm/fused_bce.wasm, or why it is not available. */
export function loadWasm(): WasmLoad {
  try {
    const path = join(packageRoot(), 'native', 'wasm', 'fused_bce.wasm');
    if (!existsSync(path)) return { passes: null, error: `no ${path}` };
    return wasmFromBytes(readFileSync(path), (bytes) => new WebAssembly.Module(bytes));
  } catch (err) {
    return { passes: null, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

/** Here the module is available at once: ready() has nothing to wait for. */
export function loadWasmAsync(): Promise<WasmLoad> {
  return Promise.resolve(loadWasm());
}
