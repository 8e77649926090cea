// The label-smoothing demo in a browser (npm run demo:web), both halves of npm run demo on the wasm backend: the MLP
// trained at labelSmoothing 0 and 0.05 and with the focal loss (gamma 2) at 0.05, then MNIST digits with label
// noise trained with CrossEntropyLoss at eps 0 and 0.1, with the loss, macro AUC and predicted-probability histograms redrawn after every
// epoch. `?small` runs a short version (the browser test does).
import { ready } from '../../src/index';
import type { BackendInfo } from '../../src/index';
import { experimentEpochs, runLabel } from '../experiment';
import { renderDemoChart } from '../chart';
import { mnistEpochs, renderMnistChart } from '../mnist';
import { decodeDigits } from '../mnist-data';

interface DemoWindow {
  demoResult?: {
    backend: BackendInfo;
    runs: { label: string; labelSmoothing: number; epochs: number; trainLoss: number; testAuc: number }[];
    polylines: number;
    mnist: { labelSmoothing: number; epochs: number; trainLoss: number; testAccuracy: number; testEce: number }[];
    mnistPolylines: number;
  };
  demoError?: string;
}

const nextFrame = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

// Runs an experiment's epochs, drawing after each (and letting the page paint); returns the finished runs.
async function showEpochs<R>(steps: Generator<R[], R[]>, draw: (runs: R[], done: boolean) => void): Promise<R[]> {
  for (;;) {
    const step = steps.next();
    draw(step.value, step.done === true);
    await nextFrame();
    if (step.done) return step.value;
  }
}

async function main(): Promise<void> {
  const status = document.getElementById('status') as HTMLElement;
  const chart = document.getElementById('chart') as HTMLElement;
  const ran = await ready();
  const small = new URLSearchParams(location.search).has('small');
  const options = small ? { trainSize: 3000, testSize: 1000, epochs: 6 } : { trainSize: 24000, testSize: 6000, epochs: 20 }; // small: test/demo.test.ts's
  const title = 'Label smoothing and focal loss on a ChestMNIST-like problem: predictions move from 0 towards a';
  const results = await showEpochs(experimentEpochs(options), (runs, done) => {
    chart.innerHTML = renderDemoChart(runs, title);
    const run = runs[runs.length - 1];
    const last = run.epochs[run.epochs.length - 1];
    status.textContent = `backend ${ran.name}/${ran.isa}: ${runLabel(run)}, epoch ${last.epoch}/${options.epochs}: ` +
      `train loss ${last.trainLoss.toFixed(4)}, test macro AUC ${last.testAuc.toFixed(4)}, ECE ${last.testEce.toFixed(4)}${done ? ' (done)' : ''}`;
  });
  // The multi-class side: MNIST digits (from the server: demo/web/server.js), CrossEntropyLoss at eps 0 and 0.1.
  const mnistChart = document.getElementById('mnist') as HTMLElement;
  const digits = decodeDigits(await (await fetch('mnist.bin')).arrayBuffer());
  const mnistOptions = small ? { trainPerDigit: 150, epochs: 3 } : { trainPerDigit: 500, epochs: 6 }; // as npm run demo's
  const mnistTitle = 'Label smoothing on MNIST with 20% label noise: confidence and calibration';
  const mnistRuns = await showEpochs(mnistEpochs(mnistOptions, digits), (runs, done) => {
    mnistChart.innerHTML = renderMnistChart(runs, mnistTitle);
    const run = runs[runs.length - 1];
    const last = run.epochs[run.epochs.length - 1];
    status.textContent = `backend ${ran.name}/${ran.isa}: MNIST, labelSmoothing ${run.labelSmoothing}, epoch ${last.epoch}/${mnistOptions.epochs}: ` +
      `train loss ${last.trainLoss.toFixed(4)}, test accuracy ${last.testAccuracy.toFixed(4)}, ECE ${last.testEce.toFixed(4)}${done ? ' (done)' : ''}`;
  });
  (window as unknown as DemoWindow).demoResult = {
    backend: ran,
    runs: results.map((r) => {
      const last = r.epochs[r.epochs.length - 1];
      return { label: runLabel(r), labelSmoothing: r.labelSmoothing, epochs: r.epochs.length, trainLoss: last.trainLoss, testAuc: last.testAuc };
    }),
    polylines: chart.querySelectorAll('polyline').length,
    mnist: mnistRuns.map((r) => {
      const last = r.epochs[r.epochs.length - 1];
      return { labelSmoothing: r.labelSmoothing, epochs: r.epochs.length, trainLoss: last.trainLoss, testAccuracy: last.testAccuracy, testEce: last.testEce };
    }),
    mnistPolylines: mnistChart.querySelectorAll('polyline').length,
  };
}

main().catch((err: unknown) => {
  (window as unknown as DemoWindow).demoError = String(err);
  (document.getElementById('status') as HTMLElement).textContent = `error: ${String(err)}`;
});
