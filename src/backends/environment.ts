// Reading the environment without ever throwing: where reading it is not allowed (Deno without --allow-env
// throws NotCapable on process.env access) or there is no process (browsers), a variable counts as unset and the
// defaults apply.

/** The value of an environment variable, or undefined when it is unset, empty or cannot be read. */
export function readEnvironment(name: string): string | undefined {
  try {
    const env = typeof process === 'undefined' ? undefined : process.env;
    const value = env?.[name];
    return value === undefined || value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * Runs `load` (which reads the environment itself, as node-gyp-build does) with process.env replaced, for its
 * duration, by a view that reads through to the real one and answers "unset" where a read throws (Deno checks
 * each variable against --allow-env; a test may make process.env itself throw).
 */
export function withReadableEnvironment<T>(load: () => T): T {
  if (typeof process === 'undefined') return load();
  const saved = Object.getOwnPropertyDescriptor(process, 'env');
  let real: NodeJS.ProcessEnv | undefined;
  try {
    real = process.env;
  } catch {
    real = undefined;
  }
  const readThrough = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_, key) => {
      try {
        return real === undefined || typeof key !== 'string' ? undefined : real[key];
      } catch {
        return undefined;
      }
    },
    has: (_, key) => {
      try {
        return real !== undefined && key in real;
      } catch {
        return false;
      }
    },
  });
  try {
    Object.defineProperty(process, 'env', { configurable: true, writable: true, value: readThrough });
  } catch {
    return load(); // cannot stand in for it: let the loader fail and say why
  }
  try {
    return load();
  } finally {
    if (saved) Object.defineProperty(process, 'env', saved);
  }
}
