// npm run count:ops: the instructions of the fused kernel's hot loop (fast path, uint8 labels, loss + gradient),
// per ISA, read from the disassembly of the built addon (objdump; build/Release/fused_bce.node). The loops are the
// innermost backward-jump ranges inside runSpan<..., Path::kFast, true, true, true> (bench/disassembly.js); the count is
// per vector of elements (16 on AVX-512, 8 on AVX2, 4 on SSE2), split into vector/mask instructions and the rest.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { functionsOf, kernelLoops, WIDTHS } = require('./disassembly');

const addon = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(__dirname, '..', 'build', 'Release', 'fused_bce.node');
if (!existsSync(addon)) {
  console.error(`count-ops: no ${addon}: build the addon first (npm run build:native)`);
  process.exit(2);
}
const functions = functionsOf(addon);

const widths = { avx512: WIDTHS.avx512, avx2: WIDTHS.avx2, sse2: WIDTHS.sse2 };
const results = [];
for (const [isa, width] of Object.entries(widths)) {
  // Two loops where the kernel computes e^-|x| first (V::kExpFirst): that pass, then the rest; counted together.
  const loops = kernelLoops(functions, isa);
  if (!loops) continue;
  const count = (body) => ({
    instructions: body.length,
    vector: body.filter((i) => /^[vk]/.test(i.mnemonic) || /[xyz]mm/.test(i.operands)).length,
    stack: body.filter((i) => /[xyz]mm/.test(i.operands) && /\(%rsp\)|\(%rbp\)/.test(i.operands)).length,
  });
  const parts = loops.map(count);
  const total = parts.reduce((a, b) => ({ instructions: a.instructions + b.instructions, vector: a.vector + b.vector, stack: a.stack + b.stack }), { instructions: 0, vector: 0, stack: 0 });
  results.push({ isa, elementsPerIteration: width, loops: parts.length, instructions: total.instructions, vectorInstructions: total.vector, stackOperands: total.stack });
  const split = parts.length > 1 ? ` (${parts.map((p) => p.instructions).join(' + ')} in ${parts.length} passes)` : '';
  console.log(`${isa}: hot loop${parts.length > 1 ? 's' : ''} ${total.instructions} instructions per ${width} elements${split}, ${total.vector} of them vector/mask, ${total.stack} with a stack operand`);
}
if (results.length === 0) {
  console.error('count-ops: no kernel loop found (was the addon stripped?)');
  process.exit(1);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
