// The MNIST digits as the web demo's server sends them (demo/web/server.js writes this layout from the `mnist`
// package): the package's pixel values take 256 distinct values, so each pixel is one byte, an index into a table.
//   u32 little-endian: the number of table entries T; T float32 values; 10 u32 counts, one per digit;
//   then, digit by digit, count * 784 bytes of table indices.
import { DIGITS, PIXELS } from './mnist';
import type { DigitSource } from './mnist';

/** Decodes the server's bytes into a DigitSource (pixels decoded on demand). */
export function decodeDigits(bytes: ArrayBuffer): DigitSource {
  const view = new DataView(bytes);
  const entries = view.getUint32(0, true);
  const table = new Float32Array(entries);
  for (let k = 0; k < entries; k++) table[k] = view.getFloat32(4 + 4 * k, true);
  let at = 4 + 4 * entries;
  const counts: number[] = [];
  for (let d = 0; d < DIGITS; d++, at += 4) counts.push(view.getUint32(at, true));
  const starts: number[] = [];
  for (let d = 0; d < DIGITS; d++) {
    starts.push(at);
    at += counts[d] * PIXELS;
  }
  if (at !== bytes.byteLength) throw new RangeError(`MNIST digits: expected ${at} bytes, got ${bytes.byteLength}`);
  const indices = new Uint8Array(bytes);
  return {
    count: (d) => counts[d],
    get: (d, i) => {
      const pixels = new Float32Array(PIXELS);
      const base = starts[d] + i * PIXELS;
      for (let k = 0; k < PIXELS; k++) pixels[k] = table[indices[base + k]];
      return pixels;
    },
  };
}
