// Builds the test-only helper addon (test/native) with node-gyp when it can; a machine without a compiler (a
// prebuilt-only test run) skips the suites that need it. Fails only where a native build is required
// (FUSED_BCE_REQUIRE_NATIVE=1: CI), so that a broken helper cannot turn its suite into a skip there.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { existsSync } = require('node:fs');

const dir = join(__dirname, 'native');
const built = join(dir, 'build', 'Release', 'fp_state.node');
if (existsSync(built) && process.env.FUSED_BCE_REBUILD_TEST_HELPERS === undefined) process.exit(0);
const gyp = process.env.npm_config_node_gyp; // set by npm for scripts
const command = gyp ? [process.execPath, [gyp, 'rebuild', '-C', dir]] : ['node-gyp', ['rebuild', '-C', dir]];
const result = spawnSync(command[0], command[1], { stdio: 'pipe', encoding: 'utf8', shell: !gyp });
if (result.status !== 0) {
  if (process.env.FUSED_BCE_REQUIRE_NATIVE === '1') {
    console.error(`test helpers: the build failed (FUSED_BCE_REQUIRE_NATIVE=1)\n${result.stdout}\n${result.stderr}`);
    process.exit(1);
  }
  console.warn('test helpers: not built (no compiler?); the floating-point state suite will be skipped');
}
