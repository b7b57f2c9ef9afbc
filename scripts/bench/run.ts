/** Runs every benchmark in this folder (or those whose name contains the first argument), one after another. */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here).filter(
  (f) => f.endsWith('.ts') && !['run.ts', 'measure.ts'].includes(f) && f.includes(filter),
);
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', join(here, f)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
