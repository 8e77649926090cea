// npm run demo: the tutorial's experiment on a ChestMNIST-like problem (see experiment.ts), printing per-epoch
// loss, macro AUC and calibration, then its multi-class side on MNIST digits with label noise (see mnist.ts),
// writing the charts to demo/results/local/ (untracked); `--publish` writes the published demo/results/demo.svg
// and mnist.svg instead. `--small` runs the quick version.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend } from '../src/index';
import { runExperiment, runLabel } from './experiment';
import { renderDemoChart } from './chart';
import { renderMnistChart, runMnist } from './mnist';
import { packageDigits } from './mnist-node';

const small = process.argv.includes('--small');
const publish = process.argv.includes('--publish') && !small;
const options = small ? { trainSize: 3000, testSize: 1000, epochs: 6 } : { trainSize: 24000, testSize: 6000, epochs: 20 };
const started = Date.now();
console.log(`fused-bce demo: ChestMNIST-like multi-label problem (14 labels, label noise), MLP 64-32-14, Adam; backend ${backend.name}${backend.isa ? `/${backend.isa}` : ''}`);
console.log(`${options.trainSize} training and ${options.testSize} test samples, ${options.epochs} epochs: BCE at labelSmoothing 0 and 0.05 (symmetric), and focal loss (gamma 2) at 0.05\n`);
const results = runExperiment({ ...options, log: (line) => console.log(line) });
console.log('\nafter the last epoch:');
for (const r of results) {
  const last = r.epochs[r.epochs.length - 1];
  const p = r.probabilities;
  let below = 0;
  let min = 1;
  for (const v of p) { if (v < 0.01) below++; if (v < min) min = v; }
  console.log(`  ${runLabel(r)}: macro AUC ${last.testAuc.toFixed(4)}, ECE ${last.testEce.toFixed(4)}, smallest probability ${min.toExponential(2)}, ${(100 * below / p.length).toFixed(1)}% below 0.01`);
}
const dir = join(__dirname, '..', '..', 'demo', 'results', ...(publish ? [] : ['local']));
mkdirSync(dir, { recursive: true });
const file = join(dir, small ? 'demo-small.svg' : 'demo.svg');
writeFileSync(file, renderDemoChart(results, 'Label smoothing and focal loss on a ChestMNIST-like problem: predictions move from 0 towards a'));
console.log(`\nwrote ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const mnistOptions = small ? { trainPerDigit: 150, epochs: 3 } : { trainPerDigit: 500, epochs: 6 };
const mnistStarted = Date.now();
console.log(`\nMNIST digits (the mnist package), ${mnistOptions.trainPerDigit} per digit to train (20% of their labels replaced by another digit), the rest to test; MLP 784-64-10, Adam, CrossEntropyLoss at labelSmoothing 0 and 0.1\n`);
const mnistRuns = runMnist({ ...mnistOptions, log: (line) => console.log(line) }, packageDigits());
console.log('\nafter the last epoch:');
for (const r of mnistRuns) {
  const last = r.epochs[r.epochs.length - 1];
  const above = r.confidences.filter((c) => c > 0.99).length / r.confidences.length;
  console.log(`  eps=${r.labelSmoothing}: test accuracy ${last.testAccuracy.toFixed(4)}, ECE ${last.testEce.toFixed(4)}, ${(100 * above).toFixed(1)}% of confidences above 0.99`);
}
const mnistFile = join(dir, small ? 'mnist-small.svg' : 'mnist.svg');
writeFileSync(mnistFile, renderMnistChart(mnistRuns, 'Label smoothing on MNIST with 20% label noise: confidence and calibration'));
console.log(`\nwrote ${mnistFile} in ${((Date.now() - mnistStarted) / 1000).toFixed(1)} s`);
