// The crash suite: hostile sequences of JavaScript operations on the arrays of asynchronous calls in flight
// (transfers, postMessage, resizes, garbage collection), each in its own process, which must end normally: no
// signal, exit code 0 (test/crash-child.js holds the sequences and their expected outcomes). More rounds:
// FUSED_BCE_CRASH_ROUNDS (npm run fuzz sets 30).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nativeLoadError } from '../src/index';

const child = join(__dirname, '..', '..', 'test', 'crash-child.js');
const list = JSON.parse(spawnSync(process.execPath, [child, '--list'], { encoding: 'utf8' }).stdout) as string[];

for (const name of list) {
  test(`crash suite: ${name}`, { skip: nativeLoadError !== null && 'no native build', timeout: 300_000 }, () => {
    const run = spawnSync(process.execPath, ['--expose-gc', child, name], { encoding: 'utf8', env: process.env });
    assert.equal(run.signal, null, `killed by ${run.signal}\n${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /ok\n$/);
  });
}
