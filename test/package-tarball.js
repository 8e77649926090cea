// The package as a user meets it (npm run test:package, a CI step): `npm pack`, then install the tarball into a
// new empty project with no compiler on PATH, and check require() and import(), the backend, and a loss against
// float64. Then the same tarball without its prebuilds: the install still succeeds and the wasm backend gives the
// same numbers. Needs `npm run build:ts` and `npm run prebuild` first.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, readdirSync, statSync, realpathSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');

const root = join(__dirname, '..');
const platformDir = `${process.platform}-${process.arch}`;
function fail(message) {
  console.error(`package test: FAILED: ${message}`);
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'index.js'))) fail('run `npm run build:ts` first');
if (!existsSync(join(root, 'prebuilds', platformDir))) fail(`no prebuilds/${platformDir}: run \`npm run prebuild\` first`);

const work = mkdtempSync(join(os.tmpdir(), 'fused-bce-package-'));
const packed = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
const tarball = join(work, packed);
console.log(`packed ${packed}: ${(statSync(tarball).size / 1024).toFixed(1)} KiB`);

// A PATH with node, npm and sh only: no python, make, cc or c++.
const bin = join(work, 'bin');
mkdirSync(bin);
symlinkSync(process.execPath, join(bin, 'node'));
symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs scripts through sh
const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, { mode: 0o755 });
const env = { ...process.env, PATH: bin };
for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key]; // not the outer npm run's settings
for (const tool of ['cc', 'c++', 'g++', 'make', 'python3']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) fail(`${tool} is still on PATH`);
}

// The check each installed project runs: CJS and ESM entry points, the backend, and a loss against float64.
const check = `
const assert = require('node:assert/strict');
const f = require('fused-bce');
(async () => {
  const esm = await import('fused-bce');
  assert.equal(esm.bceWithLogits, f.bceWithLogits, 'import() and require() share one module');
  // 16 elements: above the size where tiny inputs run on the TS kernel, so the native one computes.
  const logits = Float32Array.of(-3.5, -0.25, 0, 0.5, 2, 7.25, -1, 1, -6, 6, 0.125, -0.125, 3, -3, 9.5, -9.5);
  const labels = Uint8Array.of(0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1);
  const a = 0.05;
  const softplus = (z) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
  let truth = 0;
  for (let i = 0; i < 16; i++) { const y = labels[i] * (1 - 2 * a) + a; truth += (1 - y) * softplus(logits[i]) + y * softplus(-logits[i]); }
  truth /= 16;
  const { loss, grad } = f.bceWithLogitsFused(logits, labels, { labelSmoothing: a });
  assert.ok(Math.abs(loss - truth) <= 4 * 2 ** -24 * truth, 'mean ' + loss + ' vs float64 ' + truth);
  console.log(JSON.stringify({ backend: f.backend.name, isa: f.backend.isa, loss, grad: Array.from(grad) }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function installAndCheck(label, tgz) {
  const project = join(work, label);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `consumer-${label}`, version: '1.0.0', private: true }));
  const install = spawnSync(join(bin, 'npm'), ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tgz], { cwd: project, env, encoding: 'utf8' });
  process.stdout.write(install.stdout.split('\n').filter((l) => /fused-bce/.test(l)).map((l) => `  [npm] ${l}\n`).join(''));
  if (install.status !== 0) fail(`${label}: npm install exited with ${install.status}\n${install.stderr}`);
  const notice = /fused-bce: no prebuilt binary .* using the WebAssembly backend/.test(install.stdout + install.stderr);
  writeFileSync(join(project, 'check.js'), check);
  const run = spawnSync(process.execPath, ['check.js'], { cwd: project, env, encoding: 'utf8' });
  if (run.status !== 0) fail(`${label}: the installed package failed its check\n${run.stderr}`);
  return { ...JSON.parse(run.stdout.trim().split('\n').pop()), notice };
}

const withPrebuilds = installAndCheck('with-prebuilds', tarball);
console.log(`with prebuilds: backend ${withPrebuilds.backend}/${withPrebuilds.isa}, mean ${withPrebuilds.loss}`);
if (withPrebuilds.backend !== 'native') fail('the prebuilt binary did not load');

// The same tarball without prebuilds: no binary fits, no compiler: the install must still succeed, on js.
const unpacked = join(work, 'unpacked');
mkdirSync(unpacked);
execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
const bare = join(work, 'fused-bce-no-prebuilds.tgz');
execFileSync('tar', ['czf', bare, '-C', unpacked, 'package']);
const withoutPrebuilds = installAndCheck('without-prebuilds', bare);
console.log(`without prebuilds: backend ${withoutPrebuilds.backend}, mean ${withoutPrebuilds.loss}`);
// Without a native binary the shipped WebAssembly module runs (the default order: native, wasm, js).
if (withoutPrebuilds.backend !== 'wasm') fail('expected the wasm backend without prebuilds and without a compiler');
if (!withoutPrebuilds.notice) fail('the install did not say that it fell back to the wasm backend, and how to get the native one');
if (withPrebuilds.notice) fail('the install printed the fallback notice although a prebuilt binary fits');
const close = (p, q) => Math.abs(p - q) <= 4 * 2 ** -24 * Math.max(Math.abs(p), Math.abs(q)) + 2 ** -149;
if (!close(withPrebuilds.loss, withoutPrebuilds.loss)) fail('native and js means differ');
withPrebuilds.grad.forEach((g, i) => {
  if (!close(g, withoutPrebuilds.grad[i]) && Math.abs(g - withoutPrebuilds.grad[i]) > 4 * 2 ** -24 / 16) fail(`gradient ${i} differs`);
});
console.log(`files in the tarball: ${readdirSync(join(unpacked, 'package')).join(', ')}`);
rmSync(work, { recursive: true, force: true });
console.log('package test: passed');
