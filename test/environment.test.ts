// Reading the environment never throws: where it is not allowed (Deno without --allow-env throws NotCapable on
// access) a variable counts as unset, and loading the package in such a process gets the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readEnvironment } from '../src/backends/environment';

test('readEnvironment: set, empty and unset variables, and an environment that throws when read', () => {
  const saved = Object.getOwnPropertyDescriptor(process, 'env')!;
  try {
    process.env.FUSED_BCE_TEST_VARIABLE = 'x';
    assert.equal(readEnvironment('FUSED_BCE_TEST_VARIABLE'), 'x');
    process.env.FUSED_BCE_TEST_VARIABLE = '';
    assert.equal(readEnvironment('FUSED_BCE_TEST_VARIABLE'), undefined);
    Object.defineProperty(process, 'env', { configurable: true, get() { throw new Error('NotCapable: Requires env access'); } });
    assert.equal(readEnvironment('FUSED_BCE_TEST_VARIABLE'), undefined);
  } finally {
    Object.defineProperty(process, 'env', saved);
    delete process.env.FUSED_BCE_TEST_VARIABLE;
  }
});

test('the package loads with its defaults where reading the environment throws', () => {
  const dist = join(__dirname, '..', '..', 'dist', 'index.js');
  const script = `
    Object.defineProperty(process, 'env', { configurable: true, get() { throw new Error('NotCapable: Requires env access'); } });
    const f = require(${JSON.stringify(dist)});
    const loss = f.bceWithLogits(Float32Array.of(0), Uint8Array.of(1));
    if (Math.abs(loss - Math.LN2) > 1e-6) throw new Error('loss ' + loss);
    process.stdout.write(f.backend.name + "\\n"); // (console.log itself reads the environment)`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  // The default choice, from a readable environment with no backend forced (this suite may run with one forced).
  const env = { ...process.env };
  delete env.FUSED_BCE_BACKEND;
  delete env.FUSED_BCE_ISA;
  const readable = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(dist)}).backend.name + "\\n")`], { encoding: 'utf8', env });
  assert.equal(readable.status, 0, readable.stderr);
  assert.equal(run.stdout, readable.stdout, 'the same backend as with a readable environment');
});

test('a Node process whose native addon does not load is warned once, unless it chose a backend', () => {
  const dist = join(__dirname, '..', '..', 'dist', 'index.js');
  // node-gyp-build made to fail, as where no prebuild fits and no compiler was there at install.
  const script = (beforeLoad: string) => `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (request === 'node-gyp-build') return () => { throw new Error('No native build was found (test)'); };
      return load.call(this, request, ...rest);
    };
    ${beforeLoad}
    const f = require(${JSON.stringify(dist)});
    f.bceWithLogits(Float32Array.of(0, 1), Uint8Array.of(1, 0));
    f.bceWithLogits(Float32Array.of(0, 1), Uint8Array.of(1, 0));
    process.stdout.write(f.backend.name);`;
  const env = { ...process.env };
  delete env.FUSED_BCE_BACKEND;
  delete env.FUSED_BCE_ISA;
  const run = (beforeLoad: string, extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['-e', script(beforeLoad)], { encoding: 'utf8', env: { ...env, ...extra } });
  const warned = run('');
  assert.equal(warned.status, 0, warned.stderr);
  assert.equal(warned.stdout, 'wasm');
  const warnings = warned.stderr.match(/FusedBceWarning: the native addon did not load \(No native build was found \(test\)\)/g) ?? [];
  assert.equal(warnings.length, process.platform === 'linux' && ['x64', 'arm64'].includes(process.arch) ? 1 : 0, warned.stderr);
  assert.match(warned.stderr, /npm rebuild fused-bce/);
  const chosen = run('', { FUSED_BCE_BACKEND: 'wasm' });
  assert.equal(chosen.status, 0, chosen.stderr);
  assert.doesNotMatch(chosen.stderr, /FusedBceWarning/);
  // Where the environment cannot be read, Node's warning printer would throw: no warning, no crash.
  const unreadable = run(`Object.defineProperty(process, 'env', { configurable: true, get() { throw new Error('NotCapable'); } });`);
  assert.equal(unreadable.status, 0, unreadable.stderr);
  assert.doesNotMatch(unreadable.stderr, /FusedBceWarning/);
});
