import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Every `.ts` file under `folder`, as paths relative to `root`. */
export function sourceFiles(root: string, folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.push(relative(root, path));
    }
  };
  walk(join(root, folder));
  return out.sort();
}

const SPECIFIERS = /(?:^|[^\w.])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The module specifiers a file names: static imports and re-exports (type-only ones too) and dynamic imports. */
export function specifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return [...withoutComments.matchAll(SPECIFIERS)].map((m) => (m[1] ?? m[2])!);
}

/** The file a relative specifier names (`./x` → `x.ts` or `x/index.ts`), relative to `root`; null for packages. */
export function resolveSpecifier(root: string, from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(root, dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return relative(root, candidate);
    } catch {
      // not this one
    }
  }
  return null;
}

export interface ImportGraph {
  /** file → the files and packages it imports */
  edges: Map<string, { files: string[]; packages: string[] }>;
  lines: Map<string, number>;
}

export function importGraph(root: string, folders: string[]): ImportGraph {
  const edges: ImportGraph['edges'] = new Map();
  const lines = new Map<string, number>();
  for (const file of folders.flatMap((folder) => sourceFiles(root, folder))) {
    const source = readFileSync(join(root, file), 'utf8');
    lines.set(file, source.split('\n').length - (source.endsWith('\n') ? 1 : 0));
    const files: string[] = [];
    const packages: string[] = [];
    for (const specifier of specifiers(source)) {
      const target = resolveSpecifier(root, file, specifier);
      if (target) files.push(target);
      else if (!specifier.startsWith('.')) packages.push(specifier);
    }
    edges.set(file, { files: [...new Set(files)], packages: [...new Set(packages)] });
  }
  return { edges, lines };
}

/** The import cycles: each strongly connected group of files (Tarjan), sorted, as one line `a → b → …`. */
export function cycles(graph: ImportGraph): string[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.edges.get(file)?.files ?? []) {
      if (!graph.edges.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    const selfLoop = graph.edges.get(file)!.files.includes(file);
    if (group.length > 1 || selfLoop) found.push(group.sort().join(' ↔ '));
  };
  for (const file of graph.edges.keys()) if (!index.has(file)) visit(file);
  return found.sort();
}
