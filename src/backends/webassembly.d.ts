// The few WebAssembly declarations the wasm backend uses (the project compiles against lib ES2022, which has
// none; Node, Deno, Bun and browsers all provide the global).
declare namespace WebAssembly {
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}

// Browsers' base64 decoder (also in Node >= 16, Deno, Bun), used by the browser build only.
declare function atob(data: string): string;
