/**
 * The clock-offset preload, in real Node processes started the way the browser tests start a
 * service: each child reports what its clocks read, and this process brackets the true time
 * around the child's whole life.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLOCK_OFFSET_PRELOAD, clockOffsetEnv } from './clock-offset-env.js';

interface Readings {
  dateNow: number;
  newDate: number;
  /** `Date()` as a function: a string, whole seconds. */
  dateString: string;
  /** performance.timeOrigin + performance.now(): the monotonic clock, in epoch milliseconds. */
  monotonic: number;
  /** The `Date` header of a response from an HTTP server in the child. */
  httpDate: string;
  fromValues: { zero: number; parsed: number; utc: number; fromString: number; fromParts: number };
  typesHold: boolean;
  subclassNow: number;
  /** Only when the preload is imported after the child started: what it left unchanged. */
  before?: { instanceOfDate: boolean; time: number; monotonicUntouched: boolean };
}

const PROBE = `
const before = process.env.PROBE_IMPORT_LATE ? new Date() : undefined;
const { now: performanceNow } = performance;
const { hrtime } = process;
if (before) await import(process.env.PROBE_IMPORT_LATE);
const http = await import('node:http');
const server = http.createServer((_req, res) => res.end());
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const response = await fetch('http://127.0.0.1:' + server.address().port);
server.close();
class Moment extends Date {}
const after = new Date();
const readings = {
  dateNow: Date.now(),
  newDate: after.getTime(),
  dateString: Date(),
  monotonic: performance.timeOrigin + performance.now(),
  httpDate: response.headers.get('date'),
  fromValues: {
    zero: new Date(0).getTime(),
    parsed: Date.parse('2020-01-01T00:00:00Z'),
    utc: Date.UTC(2020, 0, 1),
    fromString: new Date('2020-01-01T00:00:00Z').getTime(),
    fromParts: new Date(2020, 0, 1).getTime() - new Date(2020, 0, 1).getTimezoneOffset() * 60_000,
  },
  typesHold:
    after instanceof Date &&
    after.constructor === Date &&
    Object.prototype.toString.call(after) === '[object Date]' &&
    typeof Date() === 'string' &&
    new Moment() instanceof Moment &&
    new Moment() instanceof Date,
  subclassNow: new Moment().getTime(),
  before: before && {
    instanceOfDate: before instanceof Date,
    time: before.getTime(),
    monotonicUntouched: performance.now === performanceNow && process.hrtime === hrtime,
  },
};
process.stdout.write(JSON.stringify(readings));
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The true time just before the child started and just after it exited. */
  startedAt: number;
  endedAt: number;
}

function runProbe(env: Record<string, string>): Promise<Run> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, startedAt, endedAt: Date.now() }));
  });
}

async function readClocks(env: Record<string, string>): Promise<Readings & { startedAt: number; endedAt: number }> {
  const run = await runProbe(env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { ...(JSON.parse(run.stdout) as Readings), startedAt: run.startedAt, endedAt: run.endedAt };
}

/** A reading taken during the child's life, on a clock `offsetMs` from the true one, at `precisionMs`. */
function expectDuring(reading: number, run: { startedAt: number; endedAt: number }, offsetMs: number, precisionMs = 1) {
  const floor = (ms: number) => Math.floor(ms / precisionMs) * precisionMs;
  expect(reading).toBeGreaterThanOrEqual(floor(run.startedAt + offsetMs));
  expect(reading).toBeLessThanOrEqual(run.endedAt + offsetMs);
}

const JAN_1_2020 = 1_577_836_800_000;

describe('the clock-offset preload', () => {
  it.each([5000, -5000])('moves every wall-clock reading by %i ms and nothing else', async (offsetMs) => {
    const run = await readClocks(clockOffsetEnv(offsetMs, undefined));

    expectDuring(run.dateNow, run, offsetMs);
    expectDuring(run.newDate, run, offsetMs);
    expectDuring(run.subclassNow, run, offsetMs);
    expectDuring(Date.parse(run.dateString), run, offsetMs, 1000);
    expectDuring(Date.parse(run.httpDate), run, offsetMs, 1000);
    expectDuring(run.monotonic, run, 0);
    expect(run.fromValues).toEqual({
      zero: 0,
      parsed: JAN_1_2020,
      utc: JAN_1_2020,
      fromString: JAN_1_2020,
      fromParts: JAN_1_2020,
    });
    expect(run.typesHold).toBe(true);
  });

  it('leaves dates made before it loaded as they were, still instances of Date', async () => {
    const run = await readClocks({
      TESSERA_TEST_CLOCK_OFFSET_MS: '5000',
      PROBE_IMPORT_LATE: pathToFileURL(CLOCK_OFFSET_PRELOAD).href,
    });

    expect(run.before?.instanceOfDate).toBe(true);
    expectDuring(run.before!.time, run, 0);
    expect(run.before?.monotonicUntouched).toBe(true);
    expectDuring(run.newDate, run, 5000);
    expect(run.typesHold).toBe(true);
  });

  it('keeps the options the child would inherit', () => {
    expect(clockOffsetEnv(1000, '--max-old-space-size=512').NODE_OPTIONS).toBe(
      `--max-old-space-size=512 --import=${pathToFileURL(CLOCK_OFFSET_PRELOAD).href}`,
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a number', 'five seconds'],
    ['fractional', '1.5'],
  ])('stops the process when the offset is %s', async (_case, value) => {
    const env = clockOffsetEnv(0, undefined);
    const { TESSERA_TEST_CLOCK_OFFSET_MS: _offset, ...withoutOffset } = env;
    const run = await runProbe(value === undefined ? withoutOffset : { ...env, TESSERA_TEST_CLOCK_OFFSET_MS: value });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('TESSERA_TEST_CLOCK_OFFSET_MS must be a whole number of milliseconds');
    expect(run.stdout).toBe('');
  });
});
