#!/usr/bin/env node
/**
 * What a package's build was built from. Run by `npm run build` in idp/ and shared/ after tsc, it
 * writes dist/source-stamp: a SHA-256 of the src/ files tsc compiles (tests left out, as
 * tsconfig.build.json leaves them out). The benchmarks compare it with the sources as they are
 * (scripts/bench/lib/tessera.ts). Contents, not modification times: a turbo cache hit restores
 * dist/ with the times of the build it cached, older than the sources of a fresh checkout.
 *
 * Usage: node ../scripts/source-stamp.mjs   (from the package directory, after its build)
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const STAMP = join('dist', 'source-stamp');

/** Every compiled source file under `dir`, as paths relative to it with "/", in a fixed order. */
function compiledSources(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .map((entry) => ({ entry, path: prefix ? `${prefix}/${entry.name}` : entry.name }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .flatMap(({ entry, path }) =>
      entry.isDirectory() ? compiledSources(dir, path) : path.endsWith('.test.ts') ? [] : [path],
    );
}

/** The hash of the sources of the package in `packageDir`, as the stamp holds it. */
export function sourceHash(packageDir) {
  const src = join(packageDir, 'src');
  const hash = createHash('sha256');
  for (const path of compiledSources(src)) {
    const content = readFileSync(join(src, path));
    hash.update(`${path}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/** The hash the package's build was stamped with, or `undefined` when it has no stamp. */
export function builtFrom(packageDir) {
  const stamp = join(packageDir, STAMP);
  return existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(join(process.cwd(), STAMP), `${sourceHash(process.cwd())}\n`);
}
