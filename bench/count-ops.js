// npm run count:ops: the instructions of the fused kernel's hot loop (fast path, uint8 labels, loss + gradient),
// per ISA, read from the disassembly of the built addon (objdump; build/Release/fused_bce.node). The loop is the
// largest backward-jump range inside runSpan<..., Path::kFast, true, true, true>; the count is per vector of
// elements (16 on AVX-512, 8 on AVX2, 4 on SSE2), split into vector/mask instructions and the rest.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const addon = process.argv[2] ?? join(__dirname, '..', 'build', 'Release', 'fused_bce.node');
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

function hotLoop(instructions) {
  let best = null;
  for (const [k, ins] of instructions.entries()) {
    if (!/^j/.test(ins.mnemonic)) continue;
    const target = parseInt((/^([0-9a-f]+)/.exec(ins.operands) ?? [])[1] ?? 'x', 16);
    if (!(target < ins.address)) continue;
    const first = instructions.findIndex((i) => i.address === target);
    if (first < 0) continue;
    const body = instructions.slice(first, k + 1);
    if (!best || body.length > best.length) best = body;
  }
  return best ?? [];
}

const widths = { avx512: 16, avx2: 8, sse2: 4 };
const results = [];
for (const [isa, width] of Object.entries(widths)) {
  const pattern = new RegExp(`^double fused_bce::${isa}::runSpan<fused_bce::${isa}::\\w+Vec, \\(fused_bce::${isa}::Path\\)0, true, true, true>`);
  const name = [...functions.keys()].find((n) => pattern.test(n));
  if (!name) continue;
  const loop = hotLoop(functions.get(name));
  const vector = loop.filter((i) => /^[vk]/.test(i.mnemonic) || /[xyz]mm/.test(i.operands)).length;
  const reloads = loop.filter((i) => /[xyz]mm/.test(i.operands) && /\(%rsp\)|\(%rbp\)/.test(i.operands)).length;
  results.push({ isa, elementsPerIteration: width, instructions: loop.length, vectorInstructions: vector, stackOperands: reloads });
  console.log(`${isa}: hot loop ${loop.length} instructions per ${width} elements, ${vector} of them vector/mask, ${reloads} with a stack operand`);
}
if (results.length === 0) {
  console.error('count-ops: no kernel loop found (was the addon stripped?)');
  process.exit(1);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
