// Run inside Deno or Bun by test/runtimes.js: import the package's ESM entry, compute a loss whose value is known,
// and print what ran as one JSON line.
import * as f from '../esm/index.mjs';

const logits = Float32Array.of(0, 2, -3, 40);
const labels = Uint8Array.of(1, 0, 1, 1);
const { loss, grad } = f.bceWithLogitsFused(logits, labels, { labelSmoothing: 0.05 });
// float64 truth of the mean, smoothing 0.05 symmetric: y' = 0.95 or 0.05
const softplus = (z) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
let truth = 0;
for (let i = 0; i < 4; i++) {
  const y = labels[i] ? 0.95 : 0.05;
  truth += (1 - y) * softplus(logits[i]) + y * softplus(-logits[i]);
}
truth /= 4;
console.log(JSON.stringify({
  backend: f.backend.name, isa: f.backend.isa, nativeLoadError: f.nativeLoadError,
  loss, relativeError: Math.abs(loss - truth) / truth, gradLength: grad.length,
}));
