import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Merges `{ [key]: value }` into bench/results/latest.json, keeping every other key. */
export function mergeLatest(key: string, value: unknown, file = 'bench/results/latest.json'): void {
  mkdirSync('bench/results', { recursive: true });
  let latest: Record<string, unknown> = {};
  try {
    latest = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // First run.
  }
  writeFileSync(file, JSON.stringify({ ...latest, [key]: value }, null, 2));
}
