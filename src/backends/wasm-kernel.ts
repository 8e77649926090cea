// The WebAssembly kernel (native/wasm/fused_bce.wasm: the same kernel template, over SIMD128) as a KernelPass,
// from the module's bytes, on any runtime. A call copies its arrays into one block of linear memory that the
// module keeps and reuses (grown when too small), checks Uint8 labels there (the module's vectorised check),
// runs the kernel, and copies the outputs back through views of the block kept from the last call: once warm, a
// step of a fixed shape allocates nothing on the JavaScript heap.
import { Param } from './kernel';
import type { Targets } from '../api/types';
import type { KernelPass } from './kernel';
import { refuseLabel } from '../options/checks';
import { CeParam } from '../generated/contract';
import type { CeKernelPass, WasmExports } from '../generated/contract';
import { checkClassIndices } from './js/ce-kernel';

/** The passes of one instance of the module. */
export interface WasmPasses {
  pass: KernelPass;
  cePass: CeKernelPass;
}

type CopiedArray = Float32Array | Int32Array | Uint16Array | Uint8Array;

/** The kernel of a compiled module (instantiated synchronously: it imports nothing). */
export function wasmKernelFromModule(module: WebAssembly.Module): WasmPasses {
  const instance = new WebAssembly.Instance(module, {});
  const wasm = instance.exports as unknown as WasmExports;
  wasm._initialize();
  let heapBuffer: ArrayBuffer | null = null;
  let f32 = new Float32Array(0);
  let i32 = new Int32Array(0);
  let u16 = new Uint16Array(0);
  let u8 = new Uint8Array(0);

  // One call's layout in the module's block, each part on a 16-byte boundary: place() the arrays (a byte offset,
  // or -1 for an absent one), then open() the block, copyIn() the inputs, address() the parts for the kernel and
  // copyOut() the outputs. (Functions made once, not per call: a closure per call would be an allocation.)
  let layoutBytes = 0;
  let base = 0;
  const place = (array: CopiedArray | null): number => {
    if (array === null) return -1;
    const at = layoutBytes;
    layoutBytes += (array.byteLength + 15) & ~15;
    return at;
  };
  const open = (): void => {
    base = wasm.buffer(Math.max(layoutBytes, 16));
    if (base === 0) throw new RangeError(`fused-bce: wasm: cannot grow the module's memory to ${layoutBytes} bytes`);
    layoutBytes = 0;
    if (wasm.memory.buffer !== heapBuffer) {
      heapBuffer = wasm.memory.buffer;
      f32 = new Float32Array(heapBuffer);
      i32 = new Int32Array(heapBuffer);
      u16 = new Uint16Array(heapBuffer);
      u8 = new Uint8Array(heapBuffer);
    }
  };
  // (An empty array has nothing to copy, and may sit on a detached buffer, which set() refuses.)
  const copyIn = (array: CopiedArray | null, at: number): void => {
    if (array === null || array.length === 0) return;
    const address = base + at;
    if (array instanceof Float32Array) f32.set(array, address / 4);
    else if (array instanceof Int32Array) i32.set(array, address / 4);
    else if (array instanceof Uint16Array) u16.set(array, address / 2);
    else u8.set(array, address);
  };
  const address = (at: number): number => (at < 0 ? 0 : base + at);
  // An output is copied out by set() from a view of its part of the block: one view per output kept from the
  // last call, and made anew only when the part moved (another shape, a grown memory). An element loop here
  // cost more than the copies in.
  const outputViews: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
  const copyOut = (out: Float32Array | null, at: number, slot: 0 | 1): void => {
    if (out === null || out.length === 0) return;
    let view = outputViews[slot];
    const byteOffset = base + at;
    if (view.buffer !== heapBuffer || view.byteOffset !== byteOffset || view.length !== out.length) {
      view = new Float32Array(heapBuffer as ArrayBuffer, byteOffset, out.length);
      outputViews[slot] = view;
    }
    out.set(view);
  };

  const pass: KernelPass = (logits, targets: Targets, posWeight, weight, lossOut, gradOut, gradOutput, params) => {
    const n = logits.length;
    const u8Targets = targets.BYTES_PER_ELEMENT === 1;
    const logitsAt = place(logits), targetsAt = place(targets), posAt = place(posWeight), weightAt = place(weight);
    const upstreamAt = place(gradOutput), lossAt = place(lossOut), gradAt = place(gradOut);
    open();
    copyIn(logits, logitsAt);
    copyIn(targets, targetsAt);
    copyIn(posWeight, posAt);
    copyIn(weight, weightAt);
    copyIn(gradOutput, upstreamAt);
    if (u8Targets) {
      const bad = wasm.firstInvalidLabel(address(targetsAt), n) >>> 0;
      if (bad < n) throw refuseLabel('wasm', targets as Uint8Array, bad, params);
    }
    const sum = wasm.run(
      address(logitsAt), u8Targets ? 0 : address(targetsAt), u8Targets ? address(targetsAt) : 0, address(posAt),
      address(weightAt), weight !== null && weight.length === n ? 1 : 0, n, params[Param.Classes],
      params[Param.SmoothScale], params[Param.SmoothShift], address(lossAt), address(gradAt), params[Param.GradScale],
      address(upstreamAt), params[Param.WantLossSum], params[Param.FocalGamma], params[Param.FocalAlpha],
    );
    copyOut(lossOut, lossAt, 0);
    copyOut(gradOut, gradAt, 1);
    if (params[Param.WantLossSum] === 1) params[Param.LossSum] = sum;
  };

  // Softmax cross-entropy: the class indices are checked here (the divisor of 'mean' with them), then the same
  // copy-in, run, copy-out.
  const cePass: CeKernelPass = (logits, targets, weight, lossOut, gradOut, gradOutput, params) => {
    const classes = params[CeParam.Classes];
    const rows = logits.length / classes;
    const divisor = checkClassIndices('wasm', targets, weight, rows, classes, params);
    params[CeParam.MeanDivisor] = divisor;
    const gradScale = params[CeParam.GradScale] / (params[CeParam.Mean] === 1 ? divisor : 1);
    let weightTotal = classes;
    if (weight !== null) {
      weightTotal = 0;
      for (let c = 0; c < classes; c++) weightTotal += weight[c];
    }
    const logitsAt = place(logits), targetsAt = place(targets), weightAt = place(weight), upstreamAt = place(gradOutput);
    const lossAt = place(lossOut), gradAt = place(gradOut);
    open();
    copyIn(logits, logitsAt);
    copyIn(targets, targetsAt);
    copyIn(weight, weightAt);
    copyIn(gradOutput, upstreamAt);
    const at = address(targetsAt);
    const sum = wasm.ceRun(
      address(logitsAt), targets instanceof Int32Array ? at : 0, targets instanceof Uint16Array ? at : 0,
      targets instanceof Uint8Array ? at : 0, targets instanceof Float32Array ? at : 0, address(weightAt), rows, classes,
      params[CeParam.LabelSmoothing], params[CeParam.IgnoreIndex], weightTotal, address(lossAt), address(gradAt), gradScale,
      address(upstreamAt), params[CeParam.WantLossSum],
    );
    copyOut(lossOut, lossAt, 0);
    copyOut(gradOut, gradAt, 1);
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
