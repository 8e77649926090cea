// One timing rule for the loss benchmarks that measure a call per element (bench/cross-entropy.js,
// bench/focal.js): the call is repeated until a batch takes budgetMs / 5, then the best of five batches, in ns per
// element.
'use strict';

function timeIt(fn, elements, budgetMs) {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= budgetMs / 5 || reps > 1e6) {
      // best of five batches
      let best = ms / reps;
      for (let k = 0; k < 4; k++) {
        const t1 = process.hrtime.bigint();
        for (let i = 0; i < reps; i++) fn();
        best = Math.min(best, Number(process.hrtime.bigint() - t1) / 1e6 / reps);
      }
      return (best * 1e6) / elements;
    }
    reps *= 2;
  }
}

module.exports = { timeIt };
