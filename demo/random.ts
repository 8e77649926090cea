// The demo's seeded random numbers (its own, so the demo depends on nothing under test/): xoshiro128** for
// uniform floats in [0, 1) and Box-Muller for standard normals. Same seed, same data, on every runtime.

/** A uniform generator on [0, 1) from a 32-bit seed (state spread by SplitMix32, never all zero). */
export function uniformGenerator(seed: number): () => number {
  let z = seed >>> 0;
  const state = new Uint32Array(4);
  for (let k = 0; k < 4; k++) {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
    state[k] = (t ^ (t >>> 16)) >>> 0;
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(state[1], 5), 7), 9) >>> 0;
    const t = state[1] << 9;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A standard normal sample (Box-Muller; 1 - u keeps the logarithm finite). */
export function standardNormal(uniform: () => number): number {
  const u = 1 - uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}
