// The browser build, as a bundler makes it: a page importing the package is bundled by esbuild with the browser
// platform and default settings (package.json "browser" swaps in the files without Node built-ins, and the
// WebAssembly module is embedded), then run in a fresh JavaScript context that has no require, process, fs or
// Buffer: after `await ready()` it runs on the wasm backend and computes the loss of node's wasm backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { bceWithLogitsFused, useBackend } from '../src/index';

const root = join(__dirname, '..', '..');
let esbuild: typeof import('esbuild') | null = null;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  esbuild = require('esbuild');
} catch {
  // a dev dependency: absent from a production install
}

test('a page bundled with esbuild for the browser runs on the embedded wasm backend, with no Node built-ins', { skip: esbuild === null && 'esbuild not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fused-bce-browser-'));
  const entry = join(dir, 'page.mjs');
  writeFileSync(entry, `
    import { ready, bceWithLogitsFused, backend } from ${JSON.stringify(root)};
    globalThis.result = (async () => {
      const before = backend.name;
      const ran = await ready();
      // 64 elements: inputs below 8 would run on the TypeScript kernel by default
      const logits = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 9);
      const labels = Uint8Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      const { loss, grad } = bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
      return { before, backend: ran.name, isa: ran.isa, loss, grad: Array.from(grad) };
    })();
  `);
  const built = esbuild!.buildSync({ entryPoints: [entry], bundle: true, platform: 'browser', write: false, logLevel: 'silent' });
  const code = built.outputFiles[0].text;
  assert.doesNotMatch(code, /require\(["'](node:)?(fs|path|os|child_process|worker_threads)["']\)/, 'no Node built-in in the bundle');
  assert.doesNotMatch(code, /node-gyp-build/, 'no addon loader in the bundle');
  const context = vm.createContext({ atob, console });
  assert.equal(vm.runInContext('typeof process + typeof require + typeof Buffer', context), 'undefinedundefinedundefined');
  vm.runInContext(code, context);
  const result = (await context.result) as { before: string; backend: string; isa: string; loss: number; grad: number[] };
  assert.equal(result.before, 'js', 'before ready(): the TypeScript backend');
  assert.equal(result.backend, 'wasm');
  assert.equal(result.isa, 'simd128');
  try {
    useBackend('wasm');
    const logits = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 9);
    const labels = Uint8Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const expected = bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
    assert.equal(result.loss, expected.loss);
    assert.deepEqual(Array.from(result.grad), Array.from(expected.grad)); // (the page's array is of another realm)
  } finally {
    useBackend('auto');
  }
});
