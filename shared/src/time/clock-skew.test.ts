import { describe, expect, it } from 'vitest';
import type { Logger } from '../log/logger.js';
import { TokenVerificationError } from '../verify/errors.js';
import { createClockSkewMonitor, describeClockSkew, issuedInTheFutureBy, observingIssuerClock } from './clock-skew.js';

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

  it('reads a refusal of a token issued in the future, and no other refusal', () => {
    const { monitor, lines } = setup();
    const future = new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', 'issued in the future', {
      claim: 'iat',
      issuedAtOffsetSec: 95,
    });
    monitor.observeRefusal(new TokenVerificationError('ERR_TOKEN_EXPIRED', 'expired', { issuedAtOffsetSec: -900 }));
    monitor.observeRefusal(new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', 'nbf', { claim: 'nbf' }));
    monitor.observeRefusal(new Error('not a token refusal'));
    expect(lines).toEqual([]);
    monitor.observeRefusal(future);
    expect(lines).toMatchObject([
      {
        level: 'error',
        fields: { issuerAheadSec: 95, likelyCause: "this server's clock is 95 s behind the issuer's" },
      },
    ]);
  });

  it('reads the Date header of the issuer’s answers only', async () => {
    const { monitor } = setup();
    const dated = (date: string) => async () => new Response('', { headers: { date: date } });
    const inTwoMinutes = new Date(Date.UTC(2026, 11, 5, 12, 2, 0, 0)).toUTCString();
    await observingIssuerClock(dated(inTwoMinutes), 'http://idp.localhost:4000', monitor)('http://other.localhost/x');
    expect(monitor.issuerAheadSec()).toBeUndefined();
    await observingIssuerClock(
      dated(inTwoMinutes),
      'http://idp.localhost:4000',
      monitor,
    )('http://idp.localhost:4000/jwks');
    // The header is truncated to the second: read as the middle of it.
    expect(monitor.issuerAheadSec()).toBe(121);
  });
});

describe('issuedInTheFutureBy and describeClockSkew', () => {
  it('name the difference in both directions', () => {
    expect(describeClockSkew(95)).toBe("this server's clock is 95 s behind the issuer's");
    expect(describeClockSkew(-95)).toBe("this server's clock is 95 s ahead of the issuer's");
    expect(describeClockSkew(0.2)).toBe("this server's clock agrees with the issuer's");
    expect(describeClockSkew(-3, { local: "this device's", issuer: "the sign-in service's" })).toBe(
      "this device's clock is 3 s ahead of the sign-in service's",
    );
    const refusal = (offset: number) =>
      new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', 'x', { claim: 'iat', issuedAtOffsetSec: offset });
    expect(issuedInTheFutureBy(refusal(61))).toBe(61);
    expect(issuedInTheFutureBy(refusal(0))).toBeUndefined();
  });
});
