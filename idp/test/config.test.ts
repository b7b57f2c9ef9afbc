/**
 * Configuration is read once and a bad value stops the process with a ConfigError naming the
 * variable; production refuses the development defaults.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tessera/shared';
import { DEMO_KEY_ENCRYPTION_KEY } from '../src/config/config.js';
import { loadConfig } from '../src/config/load-config.js';

const BASE = { TESSERA_ISSUER: 'https://idp.example.com', TESSERA_DATABASE: ':memory:' };
/** What production needs besides a key of its own: a mail server. */
const SMTP = { TESSERA_SMTP_URL: 'smtp://mail.example.com:587' };

/** The ConfigError `env` causes; fails the test if none is thrown. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('accepts the defaults outside production and flags the demo key', () => {
    const config = loadConfig({});
    expect(config.issuer).toBe('http://idp.localhost:4000');
    expect(config.port).toBe(4000);
    expect(config.usingDemoKeyEncryptionKey).toBe(true);
    expect(config.production).toBe(false);
    expect(config.accessTokenTtl).toBe(300);
    expect(config.authorizationCodeTtl).toBe(60);
  });

  it('reads durations with units', () => {
    const config = loadConfig({ ...BASE, TESSERA_ACCESS_TOKEN_TTL: '10m', TESSERA_SESSION_ABSOLUTE_TTL: '1d' });
    expect(config.accessTokenTtl).toBe(600);
    expect(config.sessionAbsoluteTtl).toBe(86400);
  });

  it('drops a trailing slash from the issuer so it matches iss exactly', () => {
    expect(loadConfig({ ...BASE, TESSERA_ISSUER: 'https://idp.example.com/' }).issuer).toBe('https://idp.example.com');
  });

  it.each(['http://localhost:4000', 'http://idp.localhost:4000', 'http://127.0.0.1:4000', 'http://[::1]:4000'])(
    'accepts the loopback http issuer %s',
    (issuer) => {
      expect(loadConfig({ ...BASE, TESSERA_ISSUER: issuer }).issuer).toBe(issuer);
    },
  );

  it.each([
    ['TESSERA_PORT', 'not-a-port'],
    ['TESSERA_PORT', '70000'],
    ['TESSERA_PORT', '-1'],
    ['TESSERA_PORT', '80.5'],
    ['TESSERA_ISSUER', 'http://idp.example.com'],
    ['TESSERA_ISSUER', 'http://localhost.evil.example'],
    ['TESSERA_ISSUER', 'ftp://idp.example.com'],
    ['TESSERA_ISSUER', 'not a url'],
    ['TESSERA_ISSUER', 'https://idp.example.com/?tenant=a'],
    ['TESSERA_ISSUER', 'https://idp.example.com/#x'],
    ['TESSERA_ACCESS_TOKEN_TTL', 'soon'],
    ['TESSERA_ACCESS_TOKEN_TTL', '10'],
    ['TESSERA_ACCESS_TOKEN_TTL', '2d'],
    ['TESSERA_ACCESS_TOKEN_TTL', '1.5m'],
    ['TESSERA_CODE_TTL', '10m'],
    ['TESSERA_SIGNING_ALG', 'HS256'],
    ['TESSERA_SIGNING_ALG', 'none'],
    ['TESSERA_TRUST_PROXY', 'maybe'],
    ['TESSERA_TRUST_PROXY', '10.0.0.1/40'],
    ['TESSERA_WORKERS', '0'],
    ['TESSERA_WORKERS', '65'],
    ['TESSERA_WORKERS', '2.5'],
    ['TESSERA_WORKERS', '-1'],
    ['TESSERA_WORKERS', 'all'],
    ['TESSERA_WORKERS', 'AUTO'],
    ['TESSERA_DATABASE_POOL', '0'],
    ['TESSERA_DATABASE_POOL', '101'],
    ['TESSERA_DATABASE_POOL', 'ten'],
    ['TESSERA_AUDIT_RETENTION_DAYS', '0'],
    ['TESSERA_AUDIT_RETENTION_DAYS', '3651'],
    ['TESSERA_AUDIT_RETENTION_DAYS', '90d'],
    ['TESSERA_AUDIT_RETENTION_DAYS', '1.5'],
    ['TESSERA_AUDIT_RETENTION_DAYS', '-1'],
    ['TESSERA_KEY_ENCRYPTION_KEY', 'too-short'],
    ['TESSERA_KEY_ENCRYPTION_KEY', randomBytes(32).toString('base64')],
  ])('refuses %s=%s with a ConfigError naming it', (variable, value) => {
    const e = configError({ [variable]: value });
    expect(e.variable).toBe(variable);
    expect(e.message.startsWith(`${variable}: `)).toBe(true);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['on', true],
    ['YES', true],
    ['false', false],
    ['0', false],
    ['Off', false],
    ['no', false],
  ])('reads TESSERA_TRUST_PROXY=%s as every switch is spelled (on: one proxy hop)', (value, on) => {
    expect(loadConfig({ ...BASE, TESSERA_TRUST_PROXY: value }).trustProxy).toEqual(
      on ? { kind: 'hops', hops: 1 } : { kind: 'none' },
    );
  });

  it('serves from one process unless TESSERA_WORKERS asks for more: a number up to 64, or auto (one per core)', () => {
    expect(loadConfig(BASE).workers).toBe(1);
    expect(loadConfig({ ...BASE, TESSERA_WORKERS: '' }).workers).toBe(1);
    expect(loadConfig({ ...BASE, TESSERA_WORKERS: '2' }).workers).toBe(2);
    expect(loadConfig({ ...BASE, TESSERA_WORKERS: '64' }).workers).toBe(64);
    expect(loadConfig({ ...BASE, TESSERA_WORKERS: 'auto' }).workers).toBe(Math.min(availableParallelism(), 64));
  });

  it('reads TESSERA_DATABASE as given, a file path or a URL, and a PostgreSQL pool of 10 unless told', () => {
    const { TESSERA_DATABASE: _, ...unset } = BASE;
    expect(loadConfig(unset)).toMatchObject({ database: './data/tessera.db', databasePool: 10 });
    const url = 'postgres://tessera@db.internal:5432/tessera';
    expect(loadConfig({ ...BASE, TESSERA_DATABASE: url, TESSERA_DATABASE_POOL: '25' })).toMatchObject({
      database: url,
      databasePool: 25,
    });
  });

  it('keeps audit events 90 days unless TESSERA_AUDIT_RETENTION_DAYS says from 1 to 3650', () => {
    expect(loadConfig(BASE).auditRetentionDays).toBe(90);
    expect(loadConfig({ ...BASE, TESSERA_AUDIT_RETENTION_DAYS: '' }).auditRetentionDays).toBe(90);
    expect(loadConfig({ ...BASE, TESSERA_AUDIT_RETENTION_DAYS: '1' }).auditRetentionDays).toBe(1);
    expect(loadConfig({ ...BASE, TESSERA_AUDIT_RETENTION_DAYS: '3650' }).auditRetentionDays).toBe(3650);
  });

  it('accepts a 32-byte base64url key-encryption key', () => {
    const key = randomBytes(32);
    const config = loadConfig({ ...BASE, TESSERA_KEY_ENCRYPTION_KEY: key.toString('base64url') });
    expect(Buffer.from(config.keyEncryptionKey).equals(key)).toBe(true);
    expect(config.usingDemoKeyEncryptionKey).toBe(false);
  });
});

describe('the metrics endpoint settings', () => {
  it('serves no metrics unless TESSERA_METRICS_PORT is set, and on loopback by default', () => {
    expect(loadConfig(BASE).metrics).toBeUndefined();
    expect(loadConfig({ ...BASE, TESSERA_METRICS_PORT: '9464' }).metrics).toEqual({
      host: '127.0.0.1',
      port: 9464,
      token: undefined,
    });
  });

  it.each([
    ["the issuer's own port", { TESSERA_PORT: '4000', TESSERA_METRICS_PORT: '4000' }, 'TESSERA_METRICS_PORT'],
    ['a token without a port', { TESSERA_METRICS_TOKEN: 'x'.repeat(40) }, 'TESSERA_METRICS_PORT'],
    ['a short token', { TESSERA_METRICS_PORT: '9464', TESSERA_METRICS_TOKEN: 'secret' }, 'TESSERA_METRICS_TOKEN'],
    [
      'a token with a space',
      { TESSERA_METRICS_PORT: '9464', TESSERA_METRICS_TOKEN: `${'x'.repeat(40)} y` },
      'TESSERA_METRICS_TOKEN',
    ],
    ['a port that is not one', { TESSERA_METRICS_PORT: '99999' }, 'TESSERA_METRICS_PORT'],
    ['an SMTP URL of another scheme', { TESSERA_SMTP_URL: 'http://mail.example.com' }, 'TESSERA_SMTP_URL'],
    ['an SMTP URL without a host', { TESSERA_SMTP_URL: 'smtp://' }, 'TESSERA_SMTP_URL'],
    ['a sender that is no address', { TESSERA_MAIL_FROM: 'Tessera' }, 'TESSERA_MAIL_FROM'],
    ['a sender with a line break', { TESSERA_MAIL_FROM: 'a@b.example\r\nBcc: x@y.example' }, 'TESSERA_MAIL_FROM'],
  ])('refuses %s', (_why, env, variable) => {
    expect(configError(env).variable).toBe(variable);
  });
});

describe('loadConfig with NODE_ENV=production', () => {
  it('refuses to run without TESSERA_KEY_ENCRYPTION_KEY', () => {
    expect(configError({ ...SMTP, NODE_ENV: 'production' }).variable).toBe('TESSERA_KEY_ENCRYPTION_KEY');
  });

  it('refuses the demo key-encryption key', () => {
    expect(
      configError({ ...SMTP, NODE_ENV: 'production', TESSERA_KEY_ENCRYPTION_KEY: DEMO_KEY_ENCRYPTION_KEY }).variable,
    ).toBe('TESSERA_KEY_ENCRYPTION_KEY');
  });

  it.each(['J', 'K', 'L'])('refuses the demo key spelled with a last character %s (the same 32 bytes)', (last) => {
    const spelling = `${DEMO_KEY_ENCRYPTION_KEY.slice(0, -1)}${last}`;
    expect(configError({ ...SMTP, NODE_ENV: 'production', TESSERA_KEY_ENCRYPTION_KEY: spelling }).variable).toBe(
      'TESSERA_KEY_ENCRYPTION_KEY',
    );
  });

  it('names every unsafe setting at once, on one line', () => {
    const error = configError({
      NODE_ENV: 'production',
      TESSERA_KEY_ENCRYPTION_KEY: DEMO_KEY_ENCRYPTION_KEY,
      TESSERA_ISSUER: 'http://idp.example.com',
      TESSERA_METRICS_PORT: '9464',
      TESSERA_METRICS_HOST: '0.0.0.0',
    });
    expect(error.variable).toBe('TESSERA_KEY_ENCRYPTION_KEY, TESSERA_ISSUER, TESSERA_METRICS_HOST, TESSERA_SMTP_URL');
    expect(error.message).toMatch(/TESSERA_KEY_ENCRYPTION_KEY: the demo key is refused/);
    expect(error.message).toMatch(/TESSERA_ISSUER: http off a loopback host \(idp\.example\.com\)/);
    expect(error.message).toMatch(
      /TESSERA_METRICS_HOST: 0\.0\.0\.0 is not loopback, and TESSERA_METRICS_TOKEN is not set/,
    );
    expect(error.message).toMatch(/TESSERA_SMTP_URL is required when NODE_ENV=production/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses to run without SMTP: the outbox is for development', () => {
    const env = { ...BASE, NODE_ENV: 'production', TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url') };
    expect(configError(env).variable).toBe('TESSERA_SMTP_URL');
    expect(loadConfig({ ...env, ...SMTP }).mail.transport).toEqual({ kind: 'smtp', url: SMTP.TESSERA_SMTP_URL });
  });

  it('serves metrics off loopback only behind a token', () => {
    const env = {
      ...BASE,
      ...SMTP,
      NODE_ENV: 'production',
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      TESSERA_METRICS_PORT: '9464',
      TESSERA_METRICS_HOST: '10.0.0.5',
    };
    expect(configError(env).variable).toBe('TESSERA_METRICS_HOST');
    const token = randomBytes(32).toString('base64url');
    expect(loadConfig({ ...env, TESSERA_METRICS_TOKEN: token }).metrics).toEqual({
      host: '10.0.0.5',
      port: 9464,
      token,
    });
    expect(loadConfig({ ...env, TESSERA_METRICS_HOST: '::1' }).metrics?.host).toBe('::1');
  });

  it('refuses an http issuer off loopback (as in any mode)', () => {
    const env = {
      ...SMTP,
      NODE_ENV: 'production',
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      TESSERA_ISSUER: 'http://idp.example.com',
    };
    expect(configError(env).variable).toBe('TESSERA_ISSUER');
    expect(configError({ ...env, NODE_ENV: 'development' }).variable).toBe('TESSERA_ISSUER');
  });

  it('runs with a key of its own', () => {
    const config = loadConfig({
      ...BASE,
      ...SMTP,
      NODE_ENV: 'production',
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    });
    expect(config.production).toBe(true);
    expect(config.usingDemoKeyEncryptionKey).toBe(false);
  });
});
