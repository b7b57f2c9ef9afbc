/**
 * The issuer pages' script (../browser/passkeys.ts), bundled with esbuild into one ES module, in
 * memory, the first time a page asks for it: no build step to forget, nothing but what it imports.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where pages load it from. */
export const PAGE_SCRIPT_PATH = '/assets/passkeys.js';

// The source (.ts) when run from source, the compiled module (.js) in a build: esbuild bundles either.
const HERE = fileURLToPath(import.meta.url);
const ENTRY = fileURLToPath(new URL(`../browser/passkeys${extname(HERE)}`, import.meta.url));

export interface PageScript {
  code: string;
  /** A strong validator of `code` (RFC 9110 §8.8.3), for revalidation by browsers. */
  etag: string;
}

let bundled: Promise<PageScript> | undefined;

/** The bundled script. A build that fails is retried at the next request, not remembered. */
export function pageScript(): Promise<PageScript> {
  bundled ??= bundle().catch((e: unknown) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

async function bundle(): Promise<PageScript> {
  // Loaded here, not with the module: every issuer imports this file, few ever serve the script.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced no output');
  const etag = `"${createHash('sha256').update(output.text).digest('base64url').slice(0, 27)}"`;
  return { code: output.text, etag };
}
