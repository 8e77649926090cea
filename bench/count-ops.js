// npm run count:ops: the instructions of the fused kernel's hot loop (fast path, uint8 labels, loss + gradient),
// per ISA, read from the disassembly of the built addon (objdump; build/Release/fused_bce.node). The loops are the
// innermost backward-jump ranges inside runSpan<..., Path::kFast, true, true, true> (see hotLoops); the count is
// per vector of elements (16 on AVX-512, 8 on AVX2, 4 on SSE2), split into vector/mask instructions and the rest.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const addon = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(__dirname, '..', 'build', 'Release', 'fused_bce.node');
if (!existsSync(addon)) {
  console.error(`count-ops: no ${addon}: build the addon first (npm run build:native)`);
  process.exit(2);
}
const text = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-C', addon], { encoding: 'utf8', maxBuffer: 1 << 28 });
const functions = new Map();
let current = null;
for (const line of text.split('\n')) {
  const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
  if (head) {
    current = [];
    functions.set(head[1], current);
    continue;
  }
  const ins = /^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$/.exec(line);
  if (ins && current) current.push({ address: parseInt(ins[1], 16), mnemonic: ins[2], operands: ins[3] });
}

// The loops of a function: ranges from a backward jump's target to the jump. The hot loops are the innermost
// ones (no other loop inside) with no call or return in them (those are cold paths placed inside a loop's range).
function hotLoops(instructions) {
  const loops = [];
  for (const [k, ins] of instructions.entries()) {
    if (!/^j/.test(ins.mnemonic)) continue;
    const target = parseInt((/^([0-9a-f]+)/.exec(ins.operands) ?? [])[1] ?? 'x', 16);
    if (!(target < ins.address)) continue;
    const first = instructions.findIndex((i) => i.address === target);
    if (first >= 0) loops.push({ first, last: k });
  }
  const innermost = loops.filter((l) => !loops.some((o) => o !== l && o.first >= l.first && o.last <= l.last));
  return innermost
    .map((l) => instructions.slice(l.first, l.last + 1))
    .filter((body) => body.length >= 8 && !body.some((i) => /^(call|ret)/.test(i.mnemonic)))
    .sort((a, b) => a[0].address - b[0].address);
}

const widths = { avx512: 16, avx2: 8, sse2: 4 };
const results = [];
for (const [isa, width] of Object.entries(widths)) {
  const pattern = new RegExp(`^double fused_bce::${isa}::runSpan<fused_bce::${isa}::\\w+Vec, \\(fused_bce::${isa}::Path\\)0, true, true, true>`);
  const name = [...functions.keys()].find((n) => pattern.test(n));
  if (!name) continue;
  // Two loops where the kernel computes e^-|x| first (V::kExpFirst): that pass, then the rest; counted together.
  const loops = hotLoops(functions.get(name));
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
