/**
 * Builds the browser code (`src/browser/`) into one ES module with esbuild, in memory, when the
 * server starts: no build step to forget, and the browser gets exactly the shared kit's source it
 * imports (the `@tessera/source` condition), nothing Node-only.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./browser/main.ts', import.meta.url));

/** The bundled browser app, as JavaScript text. Rejects when the code does not build. */
export async function bundleBrowserApp(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['@tessera/source'],
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  return output.text;
}
