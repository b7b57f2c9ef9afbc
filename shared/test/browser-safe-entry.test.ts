/**
 * The main entry is bundled into browser code (app B's public client); only src/node.ts may reach
 * node: modules. Walks the relative import graph of src/index.ts and fails on any node: import.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g;

function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]!);
    graph.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return graph;
}

describe('browser-safe entry', () => {
  it('src/index.ts reaches no node: module', () => {
    const offenders = [...importGraph(resolve(SRC, 'index.ts'))].flatMap(([file, specifiers]) =>
      specifiers
        .filter((s) => s.startsWith('node:') || ['fs', 'http', 'https', 'net', 'dns', 'zlib', 'stream'].includes(s))
        .map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('src/node.ts is where the loopback fetch lives', () => {
    const graph = importGraph(resolve(SRC, 'node.ts'));
    expect([...graph.values()].flat()).toContain('node:http');
  });
});
