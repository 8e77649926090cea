// Chooses the kernel: the native addon (best ISA the CPU has) where it loads, else WebAssembly, else pure
// TypeScript. FUSED_BCE_BACKEND=js|wasm|native and FUSED_BCE_ISA=<isa> force a choice; useBackend() does so
// in-process.
import { NATIVE_ISAS, WASM_ISA } from '../generated/contract';
import { CeParam, Param } from './kernel';
import type { BackendInfo, ParallelInfo } from '../api/types';
import type {
  CeKernelPass, CeKernelPassAsync, CeKernelPassUnweighted, Kernel, KernelPass, KernelPassAsync, KernelPassUnweighted,
} from './kernel';
import { bcePass } from './js/bce-kernel';
import { cePass } from './js/ce-kernel';
import { readEnvironment } from './environment';
import { loadNative } from './native-loader';
import { loadWasm, loadWasmAsync } from './wasm-loader';
import type { WasmLoad } from './wasm-kernel';

const ISA_NAMES: readonly string[] = NATIVE_ISAS;

// The js backend's asynchronous form runs on the main thread and resolves with the result (a rejection for
// bad labels), so that code written for the native backend runs unchanged.
const jsPassAsync: KernelPassAsync = (...args) => resolvedAsync(bcePass)(...args);

// The same for any kernel that runs on the calling thread (js, wasm).
function resolvedAsync(pass: KernelPass): KernelPassAsync {
  return (...args) => {
    try {
      pass(...args);
      return Promise.resolve(args[7][Param.WantLossSum] === 1 ? args[7][Param.LossSum] : 0);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

// The same for a softmax cross-entropy pass.
function resolvedCeAsync(pass: CeKernelPass): CeKernelPassAsync {
  return (...args) => {
    try {
      pass(...args);
      return Promise.resolve(args[6][CeParam.WantLossSum] === 1 ? args[6][CeParam.LossSum] : 0);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

// The unweighted passes through the full signatures, for kernels without entry points of their own for them.
function unweightedThrough(pass: KernelPass): KernelPassUnweighted {
  return (logits, targets, gradOut, params) => pass(logits, targets, null, null, null, gradOut, null, params);
}
function ceUnweightedThrough(pass: CeKernelPass): CeKernelPassUnweighted {
  return (logits, targets, gradOut, params) => pass(logits, targets, null, null, gradOut, null, params);
}

export const jsKernel: Kernel = Object.freeze({
  name: 'js', isa: null, pass: bcePass, passUnweighted: unweightedThrough(bcePass), passAsync: jsPassAsync,
  cePass, cePassUnweighted: ceUnweightedThrough(cePass), cePassAsync: resolvedCeAsync(cePass),
});

// The wasm backend, loaded on first need (a few ms to compile), or why it is not available.
let wasmLoaded: { kernel: Kernel | null; error: string | null } | null = null;
function wasmStateFrom({ passes, error }: WasmLoad): { kernel: Kernel | null; error: string | null } {
  const kernel = passes === null ? null : Object.freeze({
    name: 'wasm' as const, isa: WASM_ISA, pass: passes.pass, passUnweighted: unweightedThrough(passes.pass),
    passAsync: resolvedAsync(passes.pass), cePass: passes.cePass, cePassUnweighted: ceUnweightedThrough(passes.cePass),
    cePassAsync: resolvedCeAsync(passes.cePass),
  });
  return { kernel, error };
}
function wasmState(): { kernel: Kernel | null; error: string | null } {
  if (wasmLoaded === null) wasmLoaded = wasmStateFrom(loadWasm());
  return wasmLoaded;
}

function wasmKernel(): Kernel {
  const { kernel, error } = wasmState();
  if (kernel === null) throw new Error(`fused-bce: the wasm backend is not available (${error})`);
  return kernel;
}

const forcedBackend = readEnvironment('FUSED_BCE_BACKEND');
const forcedIsa = readEnvironment('FUSED_BCE_ISA');
if (forcedBackend !== undefined && forcedBackend !== 'js' && forcedBackend !== 'native' && forcedBackend !== 'wasm') {
  throw new RangeError(`fused-bce: FUSED_BCE_BACKEND must be 'js', 'native' or 'wasm', got ${JSON.stringify(forcedBackend)}`);
}
if (forcedIsa !== undefined && !ISA_NAMES.includes(forcedIsa)) {
  throw new RangeError(`fused-bce: FUSED_BCE_ISA must be one of ${ISA_NAMES.join(', ')}, got ${JSON.stringify(forcedIsa)}`);
}

const loaded = (forcedBackend === 'js' || forcedBackend === 'wasm') && forcedIsa === undefined
  ? { binding: null, error: `FUSED_BCE_BACKEND=${forcedBackend}` }
  : loadNative();
const native = loaded.binding;

/** Why the native backend is not available (null when it is). */
export const nativeLoadError: string | null = loaded.error;

function nativeKernel(isa: string | undefined): Kernel {
  if (native === null) {
    throw new Error(
      `fused-bce: the native backend did not load (${loaded.error}); ` +
        'install a prebuilt platform or build from source with `npm rebuild fused-bce` (needs python3, make and a C++ compiler)',
    );
  }
  const chosen = isa ?? native.isas[0];
  if (!ISA_NAMES.includes(chosen)) {
    throw new RangeError(`fused-bce: unknown ISA ${JSON.stringify(chosen)}; the ISAs are ${ISA_NAMES.join(', ')}`);
  }
  const pass = native.passes[chosen];
  if (pass === undefined) {
    throw new RangeError(
      `fused-bce: ISA ${chosen} is not available on this CPU or in this build; this machine runs ${native.isas.join(', ')}`,
    );
  }
  return Object.freeze({
    name: 'native', isa: chosen, pass, passUnweighted: native.passesUnweighted[chosen], passAsync: native.passesAsync[chosen],
    cePass: native.cePasses[chosen], cePassUnweighted: native.cePassesUnweighted[chosen], cePassAsync: native.cePassesAsync[chosen],
  });
}

// The default order: native, then wasm, then js.
let initial: Kernel =
  forcedBackend === 'js' ? jsKernel
    : forcedBackend === 'wasm' ? wasmKernel()
      : forcedBackend === 'native' || forcedIsa !== undefined ? nativeKernel(forcedIsa)
        : native ? nativeKernel(undefined)
          : wasmState().kernel ?? jsKernel;
let current = initial;
// The platforms with a native build: a prebuilt binary, or a source build expected to work (platform-arch).
const NATIVE_PLATFORMS: readonly string[] = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];
warnIfNativeExpected();

// One warning in Node when the native addon should have loaded here and did not: without it every call runs on
// the wasm or js backend, several times slower, and npm hides the install script's notice. Silent where the user
// chose a backend, in browsers, and on platforms the package has no native build for.
function warnIfNativeExpected(): void {
  if (native !== null || forcedBackend !== undefined || forcedIsa !== undefined) return;
  if (typeof process === 'undefined' || typeof process.emitWarning !== 'function' || process.versions?.node === undefined) return;
  if (!NATIVE_PLATFORMS.includes(`${process.platform}-${process.arch}`)) return;
  // Node's warning printer reads the environment: where reading it throws (Deno without --allow-env), printing
  // the warning would throw in turn, so there is none.
  try {
    void process.env.NODE_NO_WARNINGS;
  } catch {
    return;
  }
  process.emitWarning(
    `the native addon did not load (${loaded.error}), so every call runs on the ${current.name} backend, several times ` +
      'slower. Install python3, make and a C++17 compiler and run `npm rebuild fused-bce`, or choose a backend with ' +
      'FUSED_BCE_BACKEND=wasm (or js) to silence this.',
    { type: 'FusedBceWarning', code: 'FUSED_BCE_NO_NATIVE' },
  );
}

/**
 * Inputs shorter than this run on the TypeScript kernel while the backend is the default choice: a native call
 * has a fixed cost of about a quarter of a microsecond, more than the TS kernel spends on a few elements
 * (the benchmark measures the crossover, near 8 elements on x86-64). A backend chosen with useBackend() or the
 * environment runs every size.
 */
export const TINY_INPUT = 8;
let routeTinyInputsToJs = forcedBackend === undefined && forcedIsa === undefined;

/** The kernel for an input of n elements. */
export function kernelFor(n: number): Kernel {
  return n < TINY_INPUT && routeTinyInputsToJs ? jsKernel : current;
}

// The live view behind `backend`: its fields follow useBackend(); printed and serialised as a plain object.
class RunningBackend implements BackendInfo {
  get name(): BackendInfo['name'] {
    return current.name;
  }
  get isa(): string | null {
    return current.isa;
  }
  toJSON(): BackendInfo {
    return { name: current.name, isa: current.isa };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): BackendInfo {
    return this.toJSON();
  }
}

/**
 * What is running: `{ name: 'native' | 'wasm' | 'js', isa }`, e.g. `{ name: 'native', isa: 'avx512' }`. A live
 * view: it follows useBackend() and ready().
 */
export const backend: BackendInfo = Object.freeze(new RunningBackend());

/**
 * Switch backend in-process (tests, benchmarks, or to pin an ISA). `useBackend('native')` picks the best ISA;
 * a chosen backend runs every input size. `useBackend('auto')` returns to the load-time choice.
 * Throws if the native backend did not load or the CPU lacks the ISA.
 */
export function useBackend(name: 'js' | 'native' | 'wasm' | 'auto', isa?: string): BackendInfo {
  if (name === 'auto') {
    // Back to the choice made at load time (the environment's, else the best native ISA with tiny inputs in TS).
    if (isa !== undefined && isa !== null) throw new RangeError("fused-bce: useBackend: 'auto' takes no ISA");
    current = initial;
    routeTinyInputsToJs = forcedBackend === undefined && forcedIsa === undefined;
    return { name: current.name, isa: current.isa };
  }
  routeTinyInputsToJs = false;
  if (name === 'js') {
    if (isa !== undefined && isa !== null) throw new RangeError("fused-bce: useBackend: the 'js' backend has no ISA");
    current = jsKernel;
  } else if (name === 'native') {
    current = nativeKernel(isa);
  } else if (name === 'wasm') {
    if (isa !== undefined && isa !== null && isa !== WASM_ISA) throw new RangeError(`fused-bce: useBackend: the 'wasm' backend's ISA is ${WASM_ISA}`);
    current = wasmKernel();
  } else {
    throw new RangeError(`fused-bce: useBackend: name must be 'js', 'native', 'wasm' or 'auto', got ${JSON.stringify(name)}`);
  }
  return { name: current.name, isa: current.isa };
}

/** Every backend this process can run, in the default order: each native ISA the CPU supports, best first, then wasm, then js. */
export function availableBackends(): BackendInfo[] {
  const list: BackendInfo[] = native ? native.isas.map((isa) => ({ name: 'native' as const, isa })) : [];
  if (wasmState().kernel !== null) list.push({ name: 'wasm', isa: WASM_ISA });
  list.push({ name: 'js', isa: null });
  return list;
}

/** Why the wasm backend is not available (null when it is). */
export function wasmLoadError(): string | null {
  return wasmState().error;
}

/** What the running backend can do in parallel: `{ maxThreads }` (1 for js). */
export function parallelism(): ParallelInfo {
  return { maxThreads: current.name === 'native' && native !== null ? native.maxThreads : 1 };
}

/**
 * Resolves when the best backend this runtime has is ready, with what runs. In Node, Deno and Bun at once; in a
 * browser once the embedded WebAssembly module is compiled (asynchronously: browsers may refuse to compile it on
 * the main thread), after which the default choice moves from js to wasm. Await it once before the first call.
 */
export async function ready(): Promise<BackendInfo> {
  if (wasmLoaded === null || wasmLoaded.kernel === null) {
    wasmLoaded = wasmStateFrom(await loadWasmAsync());
    const wasm = wasmLoaded.kernel;
    if (wasm !== null && initial === jsKernel && forcedBackend === undefined && forcedIsa === undefined) {
      if (current === initial) current = wasm;
      initial = wasm;
    }
  }
  return { name: current.name, isa: current.isa };
}
