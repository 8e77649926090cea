// The kernel's hot loops, read from the disassembly of a built binary: shared by count-ops.js (instruction counts)
// and mca.js (llvm-mca throughput estimates). The hot loops are the innermost backward-jump ranges, with no call or
// return inside, of runSpan<..., Path::kFast, kU8 = true, kLoss = true, kGrad = true>: the fused pass over uint8
// labels; two of them where the vector type computes e^-|x| first (V::kExpFirst).
'use strict';
const { execFileSync } = require('node:child_process');

/** Each function of the binary, by demangled name, as a list of { address, mnemonic, operands }. */
function functionsOf(file, objdump = 'objdump') {
  const text = execFileSync(objdump, ['-d', '--no-show-raw-insn', '-C', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
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
    if (ins && current) current.push({ address: parseInt(ins[1], 16), mnemonic: ins[2], operands: ins[3].replace(/\s+(#\s|\/\/).*$/, '').replace(/\s+<.*>$/, '') });
  }
  return functions;
}

// The loops of a function: ranges from a backward branch's target to the branch, but those with a call or return
// in them (cold paths placed inside or across a loop's range). Two ranges that overlap without one holding the
// other are one loop with two back edges (a block taken on some iterations only, such as the prefetch once per
// cache line where a vector is less than a line, placed as a second entry into the loop): they are merged. The
// hot loops are the innermost ones (no other loop inside).
function hotLoops(instructions) {
  let loops = [];
  for (const [k, ins] of instructions.entries()) {
    if (!/^(j|b\.|b$|cb|tb)/.test(ins.mnemonic)) continue;
    const target = parseInt((/(?:^|,\s*|0x)([0-9a-f]+)\b/.exec(ins.operands.split(/\s+</)[0].split(',').pop().trim()) ?? [])[1] ?? 'x', 16);
    if (!(target < ins.address)) continue;
    const first = instructions.findIndex((i) => i.address === target);
    if (first >= 0 && !instructions.slice(first, k + 1).some((i) => /^(call|ret|bl$|blr)/.test(i.mnemonic))) loops.push({ first, last: k });
  }
  const crossing = (a, b) => a.first < b.first && b.first <= a.last && a.last < b.last;
  for (let merged = true; merged;) {
    merged = false;
    for (const a of loops) {
      const b = loops.find((o) => crossing(a, o) || crossing(o, a));
      if (b === undefined) continue;
      loops = loops.filter((o) => o !== a && o !== b).concat({ first: Math.min(a.first, b.first), last: Math.max(a.last, b.last) });
      merged = true;
      break;
    }
  }
  const innermost = loops.filter((l) => !loops.some((o) => o !== l && o.first >= l.first && o.last <= l.last));
  return innermost
    .map((l) => instructions.slice(l.first, l.last + 1))
    .filter((body) => body.length >= 8)
    .sort((a, b) => a[0].address - b[0].address);
}

/** Elements per vector of each ISA's kernel. */
const WIDTHS = { avx512: 16, avx2: 8, sse2: 4, neon: 4 };

/** The hot loops of one ISA's fused uint8 pass in a binary's functions, or null where the ISA is not in it. */
function kernelLoops(functions, isa) {
  const pattern = new RegExp(`^double fused_bce::${isa}::runSpan<fused_bce::${isa}::\\w+Vec(<[^>]*>)?, \\(fused_bce::${isa}::Path\\)0, true, true, true>`);
  const name = [...functions.keys()].find((n) => pattern.test(n));
  return name ? hotLoops(functions.get(name)) : null;
}

/** The hot loop of the benchmark addon's careless float sketch for an ISA (bench/native/sketch.inl), or null. */
function sketchLoops(functions, isa) {
  const name = [...functions.keys()].find((n) => n.startsWith(`double fused_bce::sketch_${isa}::sketchRun<`));
  return name ? hotLoops(functions.get(name)) : null;
}

module.exports = { functionsOf, hotLoops, kernelLoops, sketchLoops, WIDTHS };
