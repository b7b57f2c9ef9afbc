/**
 * Which build of Tessera the benchmarks start: `node idp/dist/main.js` when idp/ and shared/ are
 * built from the current sources, the TypeScript sources when they are not built or when asked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtFrom, sourceHash } from '../../source-stamp.mjs';
import { REPO } from './processes.js';

/** The flag that measures the TypeScript sources through tsx even when a build exists. */
export const FROM_SOURCES_FLAG = '--from-sources';

/**
 * How Tessera will be started: compiled when idp/ and shared/ are built, from the TypeScript
 * sources when they are not or when `fromSources` asks for it. A build of other sources than the
 * current ones (its dist/source-stamp differs, see scripts/source-stamp.mjs) is refused: measuring
 * it would measure code that is no longer there, and quietly falling back to the sources would
 * measure another start path than the one asked for.
 */
export function tesseraStartPath(fromSources: boolean, repo = REPO): { compiled: boolean; why: string } {
  if (fromSources) return { compiled: false, why: `from the TypeScript sources (${FROM_SOURCES_FLAG})` };
  const packages = ['idp', 'shared'].map((name) => join(repo, name));
  const entries = [join(repo, 'idp/dist/main.js'), join(repo, 'shared/dist/index.js')];
  if (!entries.every((entry) => existsSync(entry)))
    return { compiled: false, why: 'no build (run `npm run build` first): started from the TypeScript sources' };
  const stale = packages.filter((dir) => builtFrom(dir) !== sourceHash(dir));
  if (stale.length > 0) {
    const names = stale.map((dir) => `${dir.slice(repo.length + 1)}/dist`).join(' and ');
    throw new Error(
      `${names} was not built from the current sources: run \`npm run build\` first, ` +
        `or pass ${FROM_SOURCES_FLAG} to measure the TypeScript sources`,
    );
  }
  return { compiled: true, why: 'compiled: `node idp/dist/main.js` with NODE_ENV=production' };
}
