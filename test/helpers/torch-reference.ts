// Loads the PyTorch reference cases (PyTorch answers and float64 truth) from test/fixtures/torch-bce.json.gz,
// kept in the repository with its provenance (test/fixtures/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface Answers {
  loss: number | number[];
  grad: number[];
}

export interface TorchCase {
  name: string;
  note: string;
  n: number;
  classes: number;
  logits: number[];
  targets: number[];
  targetsDtype: 'uint8' | 'float32';
  labelSmoothing: number | null;
  convention: 'symmetric' | 'uniform' | null;
  posWeight: number[] | null;
  weight: number[] | null;
  gradOutput: number[];
  truth: Record<'none' | 'mean' | 'sum', Answers>;
  torchFloat32: Record<'none' | 'mean' | 'sum', Answers>;
  torchFloat64: Record<'none' | 'mean' | 'sum', Answers>;
}

function decode(value: unknown): unknown {
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

/** The fixture file: $FUSED_BCE_REFERENCE (a .json or .json.gz, to test other data), else test/fixtures/torch-bce.json.gz. */
export function referencePath(): string {
  if (process.env.FUSED_BCE_REFERENCE) return resolve(process.env.FUSED_BCE_REFERENCE);
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = resolve(dir, '..');
  return join(dir, 'test', 'fixtures', 'torch-bce.json.gz');
}

export function loadTorchCases(): TorchCase[] {
  return loadCases<TorchCase>(referencePath());
}

/** The decoded cases of a reference file (.json or .json.gz). */
export function loadCases<T>(path: string): T[] {
  if (!existsSync(path)) throw new Error(`PyTorch reference data not found at ${path}`);
  const bytes = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  const json = JSON.parse(text) as { cases: unknown[] };
  return json.cases.map((c) => decode(c) as T);
}

/** A fixture of test/fixtures by name, e.g. 'torch-ce.json.gz'. */
export function fixturePath(name: string): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = resolve(dir, '..');
  return join(dir, 'test', 'fixtures', name);
}

/** A softmax cross-entropy case (test/fixtures/torch-ce.json.gz; its README gives the formula). */
export interface TorchCeCase {
  name: string;
  note: string;
  rows: number;
  classes: number;
  logits: number[];
  targetKind: 'indices' | 'probabilities';
  targets: number[];
  weight: number[] | null;
  ignoreIndex: number | null;
  labelSmoothing: number;
  gradOutput: number[];
  truth: Record<'none' | 'mean' | 'sum', Answers>;
  torchFloat32: Record<'none' | 'mean' | 'sum', Answers>;
  torchFloat64: Record<'none' | 'mean' | 'sum', Answers>;
}
