// npm install hook: load a prebuilt binary when one fits this platform, else build from source with node-gyp;
// never fail the install. Without a binary the package runs on its WebAssembly backend (backend.name 'wasm'), or
// pure TypeScript ('js') where WebAssembly SIMD is missing.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const verbose = process.env.FUSED_BCE_INSTALL_VERBOSE === '1';
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  cwd: join(__dirname, '..'),
  stdio: verbose ? 'inherit' : 'pipe',
  env: process.env,
});
if (result.status !== 0) {
  if (!verbose && result.stderr) {
    const lines = String(result.stderr).trim().split('\n');
    if (lines.length > 0 && lines[0] !== '') console.warn(lines.slice(-3).map((l) => `  ${l}`).join('\n'));
  }
  console.warn(
    `fused-bce: no prebuilt binary for ${process.platform}-${process.arch} and the source build failed; using the ` +
      'WebAssembly backend (pure TypeScript where WebAssembly SIMD is missing). For the native SIMD backend install python3, make and a C++17 compiler, then run ' +
      '`npm rebuild fused-bce` (FUSED_BCE_INSTALL_VERBOSE=1 shows the build log).',
  );
} else if (verbose && result.stdout) {
  process.stdout.write(result.stdout);
}
process.exit(0);
