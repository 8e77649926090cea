// Loads the prebuilt binary of this platform (prebuilds/, nothing else: PREBUILDS_ONLY) and checks that it runs
// the PyTorch reference cases: the release workflow runs it on every prebuild before uploading it, and CI after
// building its own. Plain JavaScript, so that it needs only the built dist/.
//   node test/prebuild-smoke.js
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

if (process.argv[2] !== '--child') {
  // A process of its own, so that PREBUILDS_ONLY and the native backend hold from the package's first load.
  const env = { ...process.env, PREBUILDS_ONLY: '1', FUSED_BCE_BACKEND: 'native' };
  delete env.FUSED_BCE_ISA;
  const run = spawnSync(process.execPath, [__filename, '--child'], { stdio: 'inherit', env });
  process.exit(run.status ?? 1);
}

const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');
const f = require('../dist/index.js');

const decode = (v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Array.isArray(v) ? v.map(decode) : v);
const data = JSON.parse(gunzipSync(readFileSync(join(__dirname, 'fixtures', 'torch-bce.json.gz'))).toString());
// The reference's own bound, loosely: each value within 8 float32 units of its magnitude (the suite checks 4).
const close = (got, want, scale) => Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)) ||
  Math.abs(got - want) <= 8 * 2 ** -24 * Math.max(Math.abs(want), scale) + 2 ** -140;
let cases = 0;
for (const c of data.cases) {
  const logits = Float32Array.from(decode(c.logits));
  if (logits.some((x) => !Number.isFinite(x))) continue;
  const targets = c.targetsDtype === 'uint8' ? Uint8Array.from(c.targets) : Float32Array.from(decode(c.targets));
  const options = { reduction: 'sum', labelSmoothing: c.labelSmoothing ?? 0, smoothing: c.convention ?? 'symmetric' };
  if (c.posWeight) options.posWeight = Float32Array.from(decode(c.posWeight));
  if (c.weight) options.weight = Float32Array.from(decode(c.weight));
  const got = f.bceWithLogitsFused(logits, targets, options);
  const truth = c.truth.sum;
  // A gradient's terms are at most |w| (|1 - y'| + |p y'|) in magnitude (docs/accuracy.md), whatever cancels.
  const { scale, shift } = f.smoothingCoefficients(options.labelSmoothing, options.smoothing);
  const termScale = (i) => {
    const y = targets[i] * scale + shift, k = i % c.classes;
    const p = options.posWeight ? options.posWeight[k] : 1;
    const w = options.weight ? options.weight[options.weight.length === c.n ? i : k] : 1;
    return Math.abs(w) * (Math.abs(1 - y) + Math.abs(p * y));
  };
  const ok = close(got.loss, decode(truth.loss), 0) && decode(truth.grad).every((g, i) => close(got.grad[i], g, termScale(i)));
  if (!ok) {
    console.error(`prebuild smoke: case ${c.name} differs from the float64 truth on ${f.backend.name}/${f.backend.isa}`);
    process.exit(1);
  }
  cases++;
}
if (f.backend.name !== 'native' || cases === 0) {
  console.error(`prebuild smoke: no native prebuild ran (backend ${f.backend.name}, ${f.nativeLoadError})`);
  process.exit(1);
}
console.log(`prebuild smoke: passed (${cases} PyTorch reference cases on native/${f.backend.isa} from prebuilds/${process.platform}-${process.arch})`);
