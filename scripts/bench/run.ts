/**
 * Runs every benchmark in this folder, or those whose file name contains the first argument;
 * further arguments (`--quick`, `--small` …) go to each. The growth run (scale.ts) and the
 * scale-out run (cluster.ts) are long and run only when named.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [filter = '', ...rest] = process.argv.slice(2);
const name = filter.startsWith('--') ? '' : filter;
const passed = filter.startsWith('--') ? [filter, ...rest] : rest;
const helpers = ['run.ts', 'measure.ts', 'issuer-fixture.ts'];
/** Long runs, each with a server setup of its own: only when named. */
const namedOnly = ['scale.ts', 'cluster.ts'];
const files = readdirSync(here).filter(
  (f) => f.endsWith('.ts') && !helpers.includes(f) && (name ? f.includes(name) : !namedOnly.includes(f)),
);
if (files.length === 0) {
  process.stderr.write(`no benchmark named like ${JSON.stringify(name)}\n`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', join(here, f), ...passed], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
