/** The environment that starts a Node process with its wall clock moved (./clock-offset.mjs). */
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The preload that moves the clock. */
export const CLOCK_OFFSET_PRELOAD = fileURLToPath(new URL('./clock-offset.mjs', import.meta.url));

/**
 * Environment for a child process whose clock runs `offsetMs` ahead of the true one (behind when
 * negative): the preload goes in NODE_OPTIONS, after whatever options the child would inherit.
 */
export function clockOffsetEnv(
  offsetMs: number,
  inheritedNodeOptions = process.env.NODE_OPTIONS,
): Record<string, string> {
  // A file URL: percent-encoded, so a path with spaces survives NODE_OPTIONS' splitting on them.
  const preload = `--import=${pathToFileURL(CLOCK_OFFSET_PRELOAD).href}`;
  return {
    NODE_OPTIONS: inheritedNodeOptions ? `${inheritedNodeOptions} ${preload}` : preload,
    TESSERA_TEST_CLOCK_OFFSET_MS: String(offsetMs),
  };
}
