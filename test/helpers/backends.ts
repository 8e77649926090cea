// Runs a suite once per backend this machine has (js, then every native ISA), selected in-process.
import { describe, before, after } from 'node:test';
import { availableBackends, useBackend, backend } from '../../src/index';
import type { BackendInfo } from '../../src/index';

export function backendLabel(b: BackendInfo): string {
  return b.name === 'js' ? 'js' : `native/${b.isa}`;
}

/** `describe(<backend>, suite)` for each available backend, with that backend active inside. */
export function forEachBackend(title: string, suite: (b: BackendInfo) => void): void {
  for (const b of availableBackends()) {
    describe(`${title} [${backendLabel(b)}]`, () => {
      let previous: BackendInfo;
      before(() => {
        previous = { name: backend.name, isa: backend.isa };
        useBackend(b.name, b.isa ?? undefined);
      });
      after(() => {
        useBackend(previous.name, previous.isa ?? undefined);
      });
      suite(b);
    });
  }
}
