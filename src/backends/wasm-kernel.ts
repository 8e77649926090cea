// The WebAssembly kernel (native/wasm/fused_bce.wasm: the same kernel template, over SIMD128) as a KernelPass,
// from the module's bytes, on any runtime. A call copies its arrays into one block of linear memory that the
// module keeps and reuses (grown when too small), runs the kernel there, and copies the outputs back: once warm,
// a step allocates nothing on the JavaScript heap.
import { Param } from './kernel';
import type { Targets } from '../api/types';
import type { KernelPass } from './kernel';
import { firstInvalidLabel, refuseLabel } from '../options/checks';
import { CeParam } from '../generated/contract';
import type { CeKernelPass, WasmExports } from '../generated/contract';
import { checkClassIndices } from './js/ce-kernel';

/** The passes of one instance of the module. */
export interface WasmPasses {
  pass: KernelPass;
  cePass: CeKernelPass;
}

// (Module-level, not closures made per call: each would be an allocation.)
function round4(k: number): number {
  return (k + 3) & ~3;
}

// The byte address of a part of the block at float `at`, or 0 (null) when the array is absent.
function pointer(present: boolean, at: number, floatsFromBase: number): number {
  return present ? (at + floatsFromBase) * 4 : 0;
}

/** The kernel of a compiled module (instantiated synchronously: it imports nothing). */
export function wasmKernelFromModule(module: WebAssembly.Module): WasmPasses {
  const instance = new WebAssembly.Instance(module, {});
  const wasm = instance.exports as unknown as WasmExports;
  wasm._initialize();
  let heapBuffer: ArrayBuffer | null = null;
  let f32 = new Float32Array(0);
  let u8 = new Uint8Array(0);
  const views = () => {
    if (wasm.memory.buffer !== heapBuffer) {
      heapBuffer = wasm.memory.buffer;
      f32 = new Float32Array(heapBuffer);
      u8 = new Uint8Array(heapBuffer);
    }
  };
  const copyOut = (out: Float32Array, from: number) => {
    for (let i = 0; i < out.length; i++) out[i] = f32[from + i];
  };

  const pass: KernelPass = (logits, targets: Targets, posWeight, weight, lossOut, gradOut, gradOutput, params) => {
    const n = logits.length;
    const u8Targets = targets.BYTES_PER_ELEMENT === 1;
    if (u8Targets) {
      const bad = firstInvalidLabel(targets as Uint8Array);
      if (bad >= 0) throw refuseLabel('wasm', targets as Uint8Array, bad, params);
    }
    // Layout, in floats, each part on a 16-byte boundary: logits, targets, posWeight, weight, gradOutput,
    // lossOut, gradOut.
    const targetFloats = u8Targets ? round4(n) / 4 : n;
    let floats = round4(n) + round4(targetFloats);
    const posAt = floats;
    floats += posWeight === null ? 0 : round4(posWeight.length);
    const weightAt = floats;
    floats += weight === null ? 0 : round4(weight.length);
    const upstreamAt = floats;
    floats += gradOutput === null ? 0 : round4(n);
    const lossAt = floats;
    floats += lossOut === null ? 0 : round4(n);
    const gradAt = floats;
    floats += gradOut === null ? 0 : round4(n);
    const base = wasm.buffer(Math.max(floats, 4) * 4);
    if (base === 0) throw new RangeError(`fused-bce: wasm: cannot grow the module's memory to ${floats * 4} bytes`);
    views();
    const at = base / 4;
    const targetsAt = at + round4(n);
    // (An empty array has nothing to copy, and may sit on a detached buffer, which set() refuses.)
    if (n > 0) {
      f32.set(logits, at);
      if (u8Targets) u8.set(targets as Uint8Array, targetsAt * 4);
      else f32.set(targets as Float32Array, targetsAt);
      if (gradOutput !== null) f32.set(gradOutput, at + upstreamAt);
    }
    if (posWeight !== null && posWeight.length > 0) f32.set(posWeight, at + posAt);
    if (weight !== null && weight.length > 0) f32.set(weight, at + weightAt);
    const sum = wasm.run(
      at * 4, u8Targets ? 0 : targetsAt * 4, u8Targets ? targetsAt * 4 : 0,
      pointer(posWeight !== null, at, posAt), pointer(weight !== null, at, weightAt), weight !== null && weight.length === n ? 1 : 0,
      n, params[Param.Classes], params[Param.SmoothScale], params[Param.SmoothShift],
      pointer(lossOut !== null, at, lossAt), pointer(gradOut !== null, at, gradAt), params[Param.GradScale],
      pointer(gradOutput !== null, at, upstreamAt), params[Param.WantLossSum],
    );
    if (lossOut !== null) copyOut(lossOut, at + lossAt);
    if (gradOut !== null) copyOut(gradOut, at + gradAt);
    if (params[Param.WantLossSum] === 1) params[Param.LossSum] = sum;
  };

  // Softmax cross-entropy: the class indices are checked here (the divisor of 'mean' with them), then the same
  // copy-in, run, copy-out. Layout, in floats: logits, targets (indices as their bytes), weight, gradOutput,
  // lossOut, gradOut.
  const cePass: CeKernelPass = (logits, targets, weight, lossOut, gradOut, gradOutput, params) => {
    const n = logits.length;
    const classes = params[CeParam.Classes];
    const rows = n / classes;
    const divisor = checkClassIndices('wasm', targets, weight, rows, classes, params);
    params[CeParam.MeanDivisor] = divisor;
    const gradScale = params[CeParam.GradScale] / (params[CeParam.Mean] === 1 ? divisor : 1);
    let weightTotal = classes;
    if (weight !== null) {
      weightTotal = 0;
      for (let c = 0; c < classes; c++) weightTotal += weight[c];
    }
    const isFloat = targets instanceof Float32Array;
    const targetFloats = isFloat ? n : round4(targets.byteLength) / 4;
    let floats = round4(n) + round4(targetFloats);
    const weightAt = floats;
    floats += weight === null ? 0 : round4(classes);
    const upstreamAt = floats;
    floats += gradOutput === null ? 0 : round4(rows);
    const lossAt = floats;
    floats += lossOut === null ? 0 : round4(rows);
    const gradAt = floats;
    floats += gradOut === null ? 0 : round4(n);
    const base = wasm.buffer(Math.max(floats, 4) * 4);
    if (base === 0) throw new RangeError(`fused-bce: wasm: cannot grow the module's memory to ${floats * 4} bytes`);
    views();
    const at = base / 4;
    const targetsAt = at + round4(n);
    if (n > 0) {
      f32.set(logits, at);
      u8.set(new Uint8Array(targets.buffer, targets.byteOffset, targets.byteLength), targetsAt * 4);
      if (gradOutput !== null) f32.set(gradOutput, at + upstreamAt);
      if (weight !== null) f32.set(weight, at + weightAt);
    }
    const targetsPointer = targetsAt * 4;
    const sum = wasm.ceRun(
      at * 4, targets instanceof Int32Array ? targetsPointer : 0, targets instanceof Uint16Array ? targetsPointer : 0,
      targets instanceof Uint8Array ? targetsPointer : 0, isFloat ? targetsPointer : 0, pointer(weight !== null, at, weightAt),
      rows, classes, params[CeParam.LabelSmoothing], params[CeParam.IgnoreIndex], weightTotal,
      pointer(lossOut !== null, at, lossAt), pointer(gradOut !== null, at, gradAt), gradScale,
      pointer(gradOutput !== null, at, upstreamAt), params[CeParam.WantLossSum],
    );
    if (lossOut !== null) copyOut(lossOut, at + lossAt);
    if (gradOut !== null) copyOut(gradOut, at + gradAt);
    if (params[CeParam.WantLossSum] === 1) params[CeParam.LossSum] = sum;
  };
  return { pass, cePass };
}


/** What a platform's loader reports: the kernel, or why there is none. */
export interface WasmLoad {
  passes: WasmPasses | null;
  error: string | null;
}

/** Compiles and instantiates the module's bytes; never throws. */
export function wasmFromBytes(bytes: Uint8Array, compile: (b: Uint8Array) => WebAssembly.Module): WasmLoad {
  try {
    if (typeof WebAssembly !== 'object') return { passes: null, error: 'no WebAssembly in this runtime' };
    if (!WebAssembly.validate(bytes)) return { passes: null, error: 'this runtime has no WebAssembly SIMD' };
    return { passes: wasmKernelFromModule(compile(bytes)), error: null };
  } catch (err) {
    return { passes: null, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}
