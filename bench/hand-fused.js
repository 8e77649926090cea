// The benchmark's "hand-fused JS" reference: the loss and gradient in one pass, as a careful JavaScript engineer
// would write them (one exp, one log1p, a caller gradient buffer). Plain CommonJS with no imports, so that the
// browser check page can bundle it too.
'use strict';

function handFused(logits, targets, a, grad) {
  const n = logits.length;
  const scale = 1 - 2 * a;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    const y = targets[i] * scale + a;
    const e = Math.exp(-Math.abs(x));
    sum += Math.max(x, 0) - x * y + Math.log1p(e);
    const s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    grad[i] = (s - y) / n;
  }
  return sum / n;
}

module.exports = { handFused };
