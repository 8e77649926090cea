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
