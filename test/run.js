// Runs the compiled node:test suites without shell globs or `NAME=value cmd` prefixes, so that every npm script
// that calls it works the same under sh, cmd.exe and PowerShell (Node 20's --test does not expand globs itself).
//   node test/run.js [--env NAME=VALUE ...] [suite ...]
// A suite is a file name in .tsbuild/test without `.test.js` (e.g. `properties`); none means every suite.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const suitesDir = join(__dirname, '..', '.tsbuild', 'test');
const env = { ...process.env };
const suites = [];
const args = process.argv.slice(2);
for (let k = 0; k < args.length; k++) {
  if (args[k] === '--env') {
    const assignment = args[++k] ?? '';
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      console.error(`test/run.js: --env takes NAME=VALUE, got ${JSON.stringify(assignment)}`);
      process.exit(2);
    }
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  } else {
    suites.push(args[k]);
  }
}
if (!existsSync(suitesDir)) {
  console.error('test/run.js: no .tsbuild/test: run `npm run build:test` first (npm test does)');
  process.exit(2);
}
const files = suites.length > 0
  ? suites.map((name) => join(suitesDir, `${name}.test.js`))
  : readdirSync(suitesDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(suitesDir, f));
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`test/run.js: no suite ${file}`);
    process.exit(2);
  }
}
const result = spawnSync(process.execPath, ['--expose-gc', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
