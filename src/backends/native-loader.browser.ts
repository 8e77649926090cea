// Browsers load no native addon (package.json "browser" puts this file in place of native-loader.ts).
import type { NativeBinding } from './native-loader';

export type { NativeBinding };

export function loadNative(): { binding: NativeBinding | null; error: string | null } {
  return { binding: null, error: 'native addons do not run in a browser' };
}
