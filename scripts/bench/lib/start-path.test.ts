/** The benchmarks' choice of build: by what the build was compiled from, never by file times. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from './processes.js';
import { tesseraStartPath } from './start-path.js';

let repo: string | undefined;
afterEach(() => {
  if (repo !== undefined) rmSync(repo, { recursive: true, force: true });
  repo = undefined;
});

/** A repository with idp/ and shared/ sources, built as `npm run build` builds them (tsc's output aside). */
function builtRepository(): string {
  repo = mkdtempSync(join(tmpdir(), 'tessera-start-path-'));
  for (const [name, entry] of [
    ['idp', 'main.js'],
    ['shared', 'index.js'],
  ] as const) {
    mkdirSync(join(repo, name, 'src'), { recursive: true });
    mkdirSync(join(repo, name, 'dist'));
    writeFileSync(join(repo, name, 'src', 'index.ts'), `export const name = '${name}';\n`);
    writeFileSync(join(repo, name, 'dist', entry), `export const name = '${name}';\n`);
    execFileSync(process.execPath, [join(REPO, 'scripts/source-stamp.mjs')], { cwd: join(repo, name) });
  }
  return repo;
}

describe('tesseraStartPath', () => {
  it('starts a build of the current sources even when its files are older than them (a turbo cache restore)', () => {
    const root = builtRepository();
    const longAgo = new Date('2000-01-01T00:00:00Z');
    for (const file of [
      'idp/dist/main.js',
      'idp/dist/source-stamp',
      'shared/dist/index.js',
      'shared/dist/source-stamp',
    ])
      utimesSync(join(root, file), longAgo, longAgo);
    expect(tesseraStartPath(false, root).compiled).toBe(true);
  });

  it('refuses a build of other sources, saying to build or to pass --from-sources', () => {
    const root = builtRepository();
    writeFileSync(join(root, 'shared/src/index.ts'), "export const name = 'changed';\n");
    expect(() => tesseraStartPath(false, root)).toThrow(
      /^shared\/dist was not built from the current sources: run `npm run build` first, or pass --from-sources/,
    );
  });

  it('takes a change to a test file for no change to the build (tsc leaves tests out)', () => {
    const root = builtRepository();
    writeFileSync(join(root, 'idp/src/index.test.ts'), 'export {};\n');
    expect(tesseraStartPath(false, root).compiled).toBe(true);
  });

  it('starts from the sources with --from-sources, built or not, and without a build', () => {
    const root = builtRepository();
    writeFileSync(join(root, 'idp/src/index.ts'), "export const name = 'changed';\n");
    expect(tesseraStartPath(true, root)).toEqual({
      compiled: false,
      why: 'from the TypeScript sources (--from-sources)',
    });
    rmSync(join(root, 'idp/dist'), { recursive: true });
    expect(tesseraStartPath(false, root).compiled).toBe(false);
  });
});
