// npm run mca: throughput estimates of the kernel's hot loops for CPUs not at hand, with llvm-mca (Debian's
// llvm-19): each ISA's loops (bench/disassembly.js) are read from the built binaries and simulated for the CPUs that
// matter for that ISA, in cycles per vector and per element of the fused pass (uint8 labels, loss and gradient).
//   node bench/mca.js [binary ...] [--json]
// Default binaries: build/Release/fused_bce.node (x86-64), build-arm64/accuracy_sweep (aarch64, from
// npm run test:arm64) and the benchmark's addon (npm run build:bench: the kernel beside its careless float
// sketch, whose estimate is printed as a reference) where present. An estimate models the core, not memory or the front end's hazards: use it to
// rank variants of a loop on one CPU, and check the ranking against a measurement where the hardware is there.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { functionsOf, kernelLoops, sketchLoops, WIDTHS } = require('./disassembly');

const MCA = process.env.LLVM_MCA ?? 'llvm-mca-19';
const OBJDUMP = process.env.LLVM_OBJDUMP ?? 'llvm-objdump-19';
const CPUS = {
  avx512: ['sapphirerapids', 'znver4', 'znver5'],
  avx2: ['znver3', 'alderlake'],
  sse2: ['x86-64', 'znver3'],
  neon: ['neoverse-v1', 'neoverse-n1'],
};
const TRIPLE = { avx512: 'x86_64', avx2: 'x86_64', sse2: 'x86_64', neon: 'aarch64' };
const ITERATIONS = 300;

const root = join(__dirname, '..');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const binaries = args.length > 0 ? args : [
  join(root, 'build', 'Release', 'fused_bce.node'), join(root, 'build-arm64', 'accuracy_sweep'),
  join(root, 'bench', 'native', 'build', 'Release', 'fused_bce_bench.node'),
].filter(existsSync);
try {
  execFileSync(MCA, ['--version'], { stdio: 'ignore' });
} catch {
  console.error(`mca: no ${MCA} (Debian: apt-get install llvm-19)`);
  process.exit(2);
}

// A loop body as llvm-mca input: branches dropped (it simulates a straight block, repeated), nops dropped.
function mcaInput(body) {
  return body
    .filter((i) => !/^(j|b\.|b$|cb|tb|nop)/.test(i.mnemonic))
    .map((i) => `${i.mnemonic} ${i.operands}`.trim())
    .join('\n') + '\n';
}

// Cycles per iteration of a block on a CPU: llvm-mca's total cycles over its iterations (dependencies carried from
// one iteration to the next included).
function cyclesPerIteration(body, isa, cpu) {
  const out = execFileSync(MCA, [`-mtriple=${TRIPLE[isa]}`, `-mcpu=${cpu}`, `-iterations=${ITERATIONS}`, '-summary-view', '-resource-pressure=0', '-instruction-info=0'], {
    input: mcaInput(body), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
  });
  const total = Number(/Total Cycles:\s+(\d+)/.exec(out)?.[1]);
  const iterations = Number(/Iterations:\s+(\d+)/.exec(out)?.[1]);
  return total / iterations;
}

const results = [];
for (const binary of binaries) {
  const functions = functionsOf(binary, OBJDUMP);
  for (const isa of Object.keys(CPUS)) {
    for (const [what, loops] of [['kernel', kernelLoops(functions, isa)], ['careless sketch', sketchLoops(functions, isa)]]) {
      if (!loops || loops.length === 0) continue;
      for (const cpu of CPUS[isa]) {
        const perLoop = loops.map((body) => cyclesPerIteration(body, isa, cpu));
        const perVector = perLoop.reduce((a, b) => a + b, 0);
        results.push({ binary, what, isa, cpu, loops: perLoop.length, cyclesPerVector: perVector, cyclesPerElement: perVector / WIDTHS[isa] });
        const split = perLoop.length > 1 ? ` (${perLoop.map((c) => c.toFixed(1)).join(' + ')} in ${perLoop.length} passes)` : '';
        console.log(`${what} ${isa} on ${cpu}: ${perVector.toFixed(1)} cycles per ${WIDTHS[isa]} elements${split}, ${(perVector / WIDTHS[isa]).toFixed(3)} per element  [${binary.replace(root + '/', '')}]`);
      }
    }
  }
}
if (results.length === 0) {
  console.error('mca: no kernel loop found (build the addon first: npm run build:native)');
  process.exit(1);
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
