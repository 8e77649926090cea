// npm run test:runtimes: the package in Deno and Bun (both installed from the npm registry into .runtimes/ by
// npm run runtimes:install; CI does that). Each run imports the ESM entry, reports the backend, and must give
// the loss of test/runtime-smoke.mjs within 1e-6. Deno is run with its permissions varied: everything (native),
// no --allow-ffi (the wasm backend, with nativeLoadError saying why), no --allow-env (defaults, still native).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const bin = (name) => join(root, '.runtimes', 'node_modules', '.bin', name);
const script = join(__dirname, 'runtime-smoke.mjs');
const runs = [
  { name: 'deno (all permissions)', cmd: bin('deno'), args: ['run', '--allow-read', '--allow-ffi', '--allow-env', '--allow-sys', script], backend: 'native' },
  { name: 'deno (no --allow-ffi)', cmd: bin('deno'), args: ['run', '--allow-read', '--allow-env', '--allow-sys', script], backend: 'wasm' },
  { name: 'deno (no --allow-env)', cmd: bin('deno'), args: ['run', '--allow-read', '--allow-ffi', '--allow-sys', script], backend: 'native' },
  { name: 'bun', cmd: bin('bun'), args: [script], backend: 'native' },
];
let failed = 0;
let passed = 0;
for (const r of runs) {
  if (!existsSync(r.cmd)) {
    console.log(`SKIP ${r.name}: not installed (npm run runtimes:install)`);
    continue;
  }
  const out = spawnSync(r.cmd, r.args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });
  const line = (out.stdout ?? '').trim().split('\n').pop() ?? '';
  let report = null;
  try {
    report = JSON.parse(line);
  } catch {
    // reported below
  }
  const ok = out.status === 0 && report !== null && report.backend === r.backend && report.relativeError < 1e-6 && report.gradLength === 4;
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.name}: ${report ? `${report.backend}${report.isa ? '/' + report.isa : ''}, loss ${report.loss}, relative error ${report.relativeError.toExponential(1)}${report.nativeLoadError ? `, nativeLoadError: ${report.nativeLoadError}` : ''}` : `exit ${out.status}: ${(out.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`}`);
}
console.log(`runtime smoke: ${failed === 0 && passed > 0 ? 'passed' : 'FAILED'} (${passed} passed, ${failed} failed)`);
process.exit(failed === 0 ? 0 : 1);
