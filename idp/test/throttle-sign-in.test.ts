/**
 * Brute-force protection at the sign-in form, over real HTTP (OWASP ASVS V2.2.1): backoff and
 * temporary locks per account and per IP, refusals that look and cost exactly like a wrong
 * password, counters that survive a restart, and the audit trail. The issuer trusts
 * X-Forwarded-For here so that each test speaks from IPs of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import type { PasswordParams } from '../src/crypto/passwords.js';
import { registerUser } from '../src/protocol/registration.js';
import type { AuditEvent } from '../src/store/index.js';
import { PASSWORD, sql, startIssuer, type RunningIssuer } from './support/fixture.js';

/** Cheap argon2id, so the many attempts below stay fast (throttle-rules.test.ts checks the work a refusal does). */
const FAST: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const ENV = { TESSERA_TRUST_PROXY: 'true' };
const MESSAGE = 'Incorrect email or password.';

let idp: RunningIssuer;
let startedAt: number;

beforeAll(async () => {
  idp = await startIssuer({ env: ENV, issuer: { passwordParams: FAST } });
  startedAt = idp.clock.now();
});
afterAll(() => idp.cleanup());

function register(running: RunningIssuer, email: string) {
  const { store, passwords, clock } = running.issuer.ctx;
  return registerUser({ store, passwords, clock }, { email, displayName: email, password: PASSWORD });
}

interface Form {
  jar: CookieJarClient;
  interaction: string;
  csrfToken: string;
}

/** A new browser at the issuer's own sign-in page. */
async function openForm(running: RunningIssuer): Promise<Form> {
  const jar = createCookieJarClient();
  const page = await (await jar.fetch(new URL('/sign-in', running.url))).text();
  return { jar, interaction: formValue(page, 'interaction')!, csrfToken: formValue(page, 'csrf_token')! };
}

function post(running: RunningIssuer, form: Form, email: string, password: string, ip: string): Promise<Response> {
  return form.jar.fetch(new URL('/sign-in', running.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(running.url).origin,
      'x-forwarded-for': ip,
    },
    body: new URLSearchParams({ interaction: form.interaction, csrf_token: form.csrfToken, email, password }),
  });
}

/** One sign-in attempt from a new browser; the page is read so the response is complete. */
async function attempt(
  email: string,
  password: string,
  ip: string,
  running = idp,
): Promise<{ status: number; page: string; res: Response; form: Form }> {
  const form = await openForm(running);
  const res = await post(running, form, email, password, ip);
  return { status: res.status, page: await res.text(), res, form };
}

const setsSession = (res: Response) => res.headers.getSetCookie().some((c) => c.startsWith('tessera_session='));

/** Expects the refusal every bad credential gets: 401, the form again, the generic message, no session. */
function expectRefused(a: { status: number; page: string; res: Response }) {
  expect(a.status).toBe(401);
  expect(a.page).toContain(MESSAGE);
  expect(setsSession(a.res)).toBe(false);
}

function expectSignedIn(a: { status: number; res: Response }) {
  expect(a.status).toBe(303);
  expect(a.res.headers.get('location')).toBe('/account');
  expect(setsSession(a.res)).toBe(true);
}

/**
 * The per-response CSP nonce (of the page's <style> and <script>) and the passkey form's WebAuthn
 * challenge, random in every response whatever its outcome.
 */
const withoutNonce = (text: string) =>
  text
    .replace(/nonce="[^"]*"/g, 'nonce="N"')
    .replace(/'nonce-[^']*'/g, "'nonce-N'")
    .replace(/&quot;challenge&quot;:&quot;[^&]*&quot;/g, '&quot;challenge&quot;:&quot;CH&quot;');

/** The page apart from the fields that differ per form (and per response) anyway. */
const normalized = (page: string, form: Form) =>
  withoutNonce(page).replaceAll(form.interaction, 'INTERACTION').replaceAll(form.csrfToken, 'CSRF');

function eventsFrom(ip: string, running = idp): Promise<AuditEvent[]> {
  return running.issuer.ctx.store.audit
    .list({ since: startedAt, limit: 1000 })
    .then((events) => events.filter((e) => e.ip === ip).reverse());
}

describe('the sign-in form throttles an account', () => {
  it('refuses even the right password after five wrong ones, until the one-second delay has passed', async () => {
    await register(idp, 'bob@example.com');
    const ip = '198.51.100.1';
    for (let i = 0; i < 5; i++) expectRefused(await attempt('bob@example.com', 'wrong password', ip));
    expectRefused(await attempt('bob@example.com', PASSWORD, ip));
    idp.clock.advance(1);
    expectSignedIn(await attempt('bob@example.com', PASSWORD, ip));
  });

  it('doubles the delay with each further failure', async () => {
    await register(idp, 'carol@example.com');
    const ip = '198.51.100.2';
    for (let i = 0; i < 5; i++) await attempt('carol@example.com', 'wrong password', ip);
    idp.clock.advance(1);
    expectRefused(await attempt('carol@example.com', 'wrong password', ip));
    idp.clock.advance(1);
    expectRefused(await attempt('carol@example.com', PASSWORD, ip));
    idp.clock.advance(1);
    expectSignedIn(await attempt('carol@example.com', PASSWORD, ip));
  });

  it('answers a throttled attempt with the very bytes of a wrong password, but for nonce and challenge', async () => {
    await register(idp, 'dave@example.com');
    const ip = '198.51.100.3';
    const form = await openForm(idp);
    let wrong: Response | undefined;
    for (let i = 0; i < 5; i++) wrong = await post(idp, form, 'dave@example.com', 'wrong password', ip);
    // Same form, same email: only the password differs, and this one is right.
    const throttled = await post(idp, form, 'dave@example.com', PASSWORD, ip);
    expect(throttled.status).toBe(wrong!.status);
    // The date and the request id are each response's own, whatever its outcome (a random UUID for the id).
    const headers = (res: Response) =>
      [...res.headers]
        .filter(([name]) => name !== 'date' && name !== 'x-request-id')
        .map(([name, value]) => [name, withoutNonce(value)]);
    expect(throttled.headers.get('x-request-id')).not.toBe(wrong!.headers.get('x-request-id'));
    expect(headers(throttled)).toEqual(headers(wrong!));
    const throttledPage = await throttled.text();
    expect(withoutNonce(throttledPage)).toBe(withoutNonce(await wrong!.text()));
    // A wrong password on another form differs only by that form's own fields.
    const other = await attempt('someone-else@example.com', 'wrong password', '198.51.100.4');
    expect(normalized(other.page, other.form)).toBe(
      normalized(throttledPage, form).replace('dave@example.com', 'someone-else@example.com'),
    );
  });

  it('locks the account for 15 minutes after 20 failures from as many IPs, then lets its owner in', async () => {
    const erin = await register(idp, 'erin@example.com');
    for (let i = 1; i <= 20; i++) {
      expectRefused(await attempt('erin@example.com', 'wrong password', `192.0.2.${i}`));
      // Wait out each backoff delay (at most a minute), so every guess is counted.
      idp.clock.advance(60);
    }
    const locked = (await eventsFrom('192.0.2.20')).find((e) => e.type === 'sign_in.locked');
    expect(locked).toMatchObject({ subject: erin.sub, detail: { scope: 'account', failures: 20 } });

    const owner = await attempt('erin@example.com', PASSWORD, '192.0.2.100');
    expectRefused(owner);
    const wrong = await attempt('erin@example.com', 'wrong password', '192.0.2.101');
    expect(normalized(owner.page, owner.form)).toBe(normalized(wrong.page, wrong.form));
    idp.clock.advance(13 * 60);
    expectRefused(await attempt('erin@example.com', PASSWORD, '192.0.2.100'));
    idp.clock.advance(60);
    expectSignedIn(await attempt('erin@example.com', PASSWORD, '192.0.2.100'));
  });
});

describe('the sign-in form throttles an IP', () => {
  it('blocks an IP after ten failures on different accounts, for every account it tries next', async () => {
    await register(idp, 'frank@example.com');
    const ip = '198.51.100.50';
    for (let i = 0; i < 10; i++) expectRefused(await attempt(`nobody-${i}@example.com`, 'wrong password', ip));
    expectRefused(await attempt('frank@example.com', PASSWORD, ip));
    expectSignedIn(await attempt('frank@example.com', PASSWORD, '198.51.100.51'));
  });

  it('cannot lock an account from one IP, however long it keeps guessing', async () => {
    await register(idp, 'grace@example.com');
    const ip = '203.0.113.66';
    // 45 minutes of one guess a minute: the IP is locked after 15 counted failures, then gets
    // one guess per 15-minute lock.
    for (let i = 0; i < 45; i++) {
      expectRefused(await attempt('grace@example.com', 'wrong password', ip));
      idp.clock.advance(60);
    }
    const events = await eventsFrom(ip);
    expect(events.some((e) => e.type === 'sign_in.locked' && (e.detail as { scope: string }).scope === 'ip')).toBe(
      true,
    );
    expect(events.some((e) => e.type === 'sign_in.locked' && (e.detail as { scope: string }).scope === 'account')).toBe(
      false,
    );
    expect(
      events.filter((e) => e.type === 'sign_in.failed' && (e.detail as { reason: string }).reason === 'locked').length,
    ).toBeGreaterThan(20);
    // Its owner, elsewhere, is not locked out.
    expectSignedIn(await attempt('grace@example.com', PASSWORD, '203.0.113.67'));
  });

  it('ends an IP lock on its own', async () => {
    await register(idp, 'heidi@example.com');
    const ip = '198.51.100.60';
    for (let i = 0; i < 15; i++) {
      await attempt(`nobody-${i}@example.net`, 'wrong password', ip);
      idp.clock.advance(60);
    }
    expectRefused(await attempt('heidi@example.com', PASSWORD, ip));
    idp.clock.advance(15 * 60);
    expectSignedIn(await attempt('heidi@example.com', PASSWORD, ip));
  });
});

describe('the sign-in throttle', () => {
  it('keeps its counters across a restart on the same database', async () => {
    const first = await startIssuer({ env: ENV, issuer: { passwordParams: FAST } });
    let second: RunningIssuer | undefined;
    try {
      await register(first, 'ivan@example.com');
      // Nine counted failures (each backoff waited out): blocked for 16 s, long enough to outlast the restart.
      for (let i = 0; i < 9; i++) {
        if (i > 0) first.clock.advance(60);
        expectRefused(await attempt('ivan@example.com', 'wrong password', `192.0.2.${200 + i}`, first));
      }
      await first.stop();
      second = await startIssuer({ database: first.database, env: ENV, issuer: { passwordParams: FAST } });
      second.clock.offset = first.clock.offset;
      expectRefused(await attempt('ivan@example.com', PASSWORD, '192.0.2.250', second));
      second.clock.advance(16);
      expectSignedIn(await attempt('ivan@example.com', PASSWORD, '192.0.2.250', second));
    } finally {
      await second?.stop();
      await first.cleanup();
    }
  });

  it('stores no email in clear', async () => {
    const keys = await sql(idp, 'select key from sign_in_throttles');
    expect(keys.length).toBeGreaterThan(0);
    for (const { key } of keys) expect(key).not.toContain('@');
  });

  it('writes failures, the block, the refusal and the success to the audit trail with subject and IP', async () => {
    const judy = await register(idp, 'judy@example.com');
    const ip = '198.51.100.70';
    for (let i = 0; i < 5; i++) await attempt('judy@example.com', 'wrong password', ip);
    await attempt('judy@example.com', PASSWORD, ip);
    await attempt('nobody@example.org', 'wrong password', ip);
    idp.clock.advance(1);
    const signedIn = await attempt('judy@example.com', PASSWORD, ip);

    const sub = judy.sub;
    const summary = (await eventsFrom(ip)).map((e) => [e.type, e.subject, e.detail]);
    expect(summary).toEqual([
      ...Array(4).fill(['sign_in.failed', sub, { reason: 'bad_credentials' }]),
      ['sign_in.throttled', sub, { scope: 'account', failures: 5, blocked_until: expect.any(Number) }],
      ['sign_in.failed', sub, { reason: 'bad_credentials' }],
      ['sign_in.failed', sub, { reason: 'throttled' }],
      ['sign_in.failed', null, { reason: 'bad_credentials' }],
      ['sign_in.succeeded', sub, { sid: expect.any(String) }],
    ]);
    expect(setsSession(signedIn.res)).toBe(true);
  });
});
