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

/** Whether process.env can be read at all here. */
export function environmentReadable(): boolean {
  try {
    return typeof process === 'undefined' || (process.env, true);
  } catch {
    return false;
  }
}

/**
 * Runs `load` (which reads the environment itself, as node-gyp-build does) with an empty environment in place
 * where the real one cannot be read, so that it sees every variable unset instead of throwing.
 */
export function withReadableEnvironment<T>(load: () => T): T {
  if (environmentReadable()) return load();
  const saved = Object.getOwnPropertyDescriptor(process, 'env');
  try {
    Object.defineProperty(process, 'env', { configurable: true, writable: true, value: {} });
  } catch {
    return load(); // cannot shadow it: let the loader fail and say why
  }
  try {
    return load();
  } finally {
    if (saved) Object.defineProperty(process, 'env', saved);
  }
}
