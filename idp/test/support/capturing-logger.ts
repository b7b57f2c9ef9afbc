/** A logger for tests that keeps every line: its fields and its event. */
import type { Logger } from '@tessera/shared';

export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const keep = (event: string, fields?: Record<string, unknown>) => lines.push({ ...fields, event });
  return { log: { info: keep, warn: keep, error: keep }, lines };
}
