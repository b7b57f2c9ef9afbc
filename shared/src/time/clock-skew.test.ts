import { describe, expect, it } from 'vitest';
import type { Logger } from '../log/logger.js';
import { createClockSkewMonitor } from './clock-skew.js';

/** A monitor on a clock the test sets, with the lines it logs. */
function setup(options: { toleranceSec?: number } = {}) {
  const lines: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  const record =
    (level: string) =>
    (event: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, event, fields });
  const log: Logger = { info: record('info'), warn: record('warn'), error: record('error') };
  let nowMs = Date.UTC(2026, 11, 5, 12, 0, 0, 0);
  const monitor = createClockSkewMonitor({ log, now: () => nowMs, ...options });
  /** An iat the issuer would sign with its clock `aheadSec` ahead of ours (half a second into our second). */
  const iatAhead = (aheadSec: number) => (nowMs - 500) / 1000 + aheadSec;
  return { monitor, lines, iatAhead, advance: (ms: number) => (nowMs += ms) };
}

describe('createClockSkewMonitor', () => {
  it('logs nothing while the clocks agree, and warns of a difference within the leeway', () => {
    const { monitor, lines, iatAhead } = setup();
    monitor.observeIssuedAt(iatAhead(0));
    expect(lines).toEqual([]);
    monitor.observeIssuedAt(iatAhead(30));
    expect(lines).toMatchObject([
      { level: 'warn', event: 'clock.skew', fields: { issuerAheadSec: 30, toleranceSec: 60, source: 'iat' } },
    ]);
    expect(monitor.issuerAheadSec()).toBe(30);
  });

  it('logs an error when a difference it warned of grows past the leeway, however little it moved', () => {
    const { monitor, lines, iatAhead, advance } = setup();
    monitor.observeIssuedAt(iatAhead(58));
    advance(60_000);
    monitor.observeIssuedAt(iatAhead(61));
    expect(lines.map((line) => [line.level, line.fields.issuerAheadSec])).toEqual([
      ['warn', 58],
      ['error', 61],
    ]);
    expect(lines[1]!.fields.likelyCause).toBe("this server's clock is 61 s behind the issuer's");
  });

  it('with a leeway under the warning threshold (strict verifiers), logs an error for a difference past it', () => {
    const { monitor, lines, iatAhead } = setup({ toleranceSec: 0 });
    monitor.observeIssuedAt(iatAhead(0));
    expect(lines).toEqual([]);
    monitor.observeIssuedAt(iatAhead(3));
    expect(lines).toMatchObject([
      { level: 'error', fields: { issuerAheadSec: 3, likelyCause: "this server's clock is 3 s behind the issuer's" } },
    ]);
  });

  it('does not repeat a line within ten minutes while the difference stays put', () => {
    const { monitor, lines, iatAhead, advance } = setup();
    monitor.observeIssuedAt(iatAhead(90));
    advance(60_000);
    monitor.observeIssuedAt(iatAhead(91));
    expect(lines).toHaveLength(1);
    advance(10 * 60_000);
    monitor.observeIssuedAt(iatAhead(91));
    expect(lines).toHaveLength(2);
  });
});
