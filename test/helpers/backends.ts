// Runs a suite once per backend this machine has (every native ISA, wasm, js), selected in-process.
import { describe, before, after } from 'node:test';
import { availableBackends, useBackend } from '../../src/index';
import type { BackendInfo } from '../../src/index';

export function backendLabel(b: BackendInfo): string {
  return b.name === 'js' ? 'js' : `${b.name}/${b.isa}`;
}

/** `describe(<backend>, suite)` for each available backend, with that backend active inside. */
export function forEachBackend(title: string, suite: (b: BackendInfo) => void): void {
  for (const b of availableBackends()) {
    describe(`${title} [${backendLabel(b)}]`, () => {
      before(() => {
        useBackend(b.name, b.isa ?? undefined);
      });
      after(() => {
        useBackend('auto');
      });
      suite(b);
    });
  }
}
