// Loads the Node-API addon (a prebuilt binary in prebuilds/, or build/Release) with node-gyp-build, and says why
// when it does not load.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type {
  CeKernelPass, CeKernelPassAsync, CeKernelPassUnweighted, KernelPass, KernelPassAsync, KernelPassUnweighted,
} from './kernel';
import { withReadableEnvironment } from './environment';

/** What the native binding (native/binding/addon.cc) exports. */
export interface NativeBinding {
  /** ISAs this CPU (and OS) can run, best first, e.g. ['avx512', 'avx2', 'sse2', 'scalar']. */
  readonly isas: readonly string[];
  /** One entry point per runnable ISA, each with the KernelPass signature. */
  readonly passes: Readonly<Record<string, KernelPass>>;
  /** The unweighted pass (KernelPassUnweighted): four arguments, so a small call reads only what it uses. */
  readonly passesUnweighted: Readonly<Record<string, KernelPassUnweighted>>;
  /** The same, asynchronous (Node-API async work on the libuv pool). */
  readonly passesAsync: Readonly<Record<string, KernelPassAsync>>;
  /** The softmax cross-entropy pass per runnable ISA (CeKernelPass), and its asynchronous form. */
  readonly cePasses: Readonly<Record<string, CeKernelPass>>;
  readonly cePassesAsync: Readonly<Record<string, CeKernelPassAsync>>;
  /** The unweighted cross-entropy pass (CeKernelPassUnweighted): four arguments. */
  readonly cePassesUnweighted: Readonly<Record<string, CeKernelPassUnweighted>>;
  /** The slots of the cross-entropy parameter block as the binary numbers them (CeParam). */
  readonly ceParamSlots: Readonly<Record<string, number>>;
  /** The slots of the parameter block as the binary numbers them (a test holds them against the contract's Param). */
  readonly paramSlots: Readonly<Record<string, number>>;
  /** The most threads a call can use here: one per CPU this process may use (affinity, cgroup CPU quota). */
  readonly maxThreads: number;
}

// The package root holds binding.gyp and build/ or prebuilds/; this file runs from dist/ or from a test build.
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return join(__dirname, '..');
    dir = parent;
  }
}

export function loadNative(): { binding: NativeBinding | null; error: string | null } {
  try {
    // node-gyp-build reads the environment when it is loaded and when it loads: both in a readable one.
    const binding = withReadableEnvironment(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const load = require('node-gyp-build') as (root: string) => NativeBinding;
      return load(packageRoot());
    });
    return { binding, error: null };
  } catch (err) {
    return { binding: null, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}
