/**
 * Reads the issuer's configuration from the environment once, at start-up, with the shared kit's
 * readers. A bad value stops the process with a ConfigError that names the variable.
 */
import {
  ConfigError,
  envBase64urlBytes,
  envDuration,
  envIssuerIdentifier,
  envOneOf,
  envPort,
  envString,
  isLoopbackHost,
  SIGNING_ALGORITHMS,
  type EnvVariables,
} from '@tessera/shared';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Config,
  DEFAULT_DATABASE_POOL,
  DEFAULT_ISSUER,
  DEMO_KEY_ENCRYPTION_KEY,
  DURATION_SETTINGS,
  type DurationField,
  MAX_DATABASE_POOL,
  MAX_WORKERS,
  AUDIT_RETENTION_DAYS,
  type MailSettings,
  SIGN_UP_POLICIES,
  type MetricsEndpoint,
  MIN_METRICS_TOKEN_LENGTH,
} from './config.js';
import { parseTrustedProxies } from '../http/client-address.js';

const DEMO_KEY_BYTES = Buffer.from(DEMO_KEY_ENCRYPTION_KEY, 'base64url');

/** TESSERA_KEY_ENCRYPTION_KEY, or the demo key when unset (production refuses both: unsafeInProduction). */
function keyEncryptionKey(env: EnvVariables): { key: Uint8Array; demo: boolean } {
  const key = envBase64urlBytes(env, 'TESSERA_KEY_ENCRYPTION_KEY', 32);
  if (key === undefined) return { key: new Uint8Array(DEMO_KEY_BYTES), demo: true };
  // Compared as bytes: base64url spells the same 32 bytes four ways (the last character's two spare bits).
  return { key, demo: DEMO_KEY_BYTES.equals(key) };
}

/** TESSERA_DATABASE_POOL: connections each process keeps to PostgreSQL (a SQLite file has one). */
function databasePool(env: EnvVariables): number {
  const name = 'TESSERA_DATABASE_POOL';
  const raw = envString(env, name, String(DEFAULT_DATABASE_POOL));
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_DATABASE_POOL)
    throw new ConfigError(name, `must be a number from 1 to ${MAX_DATABASE_POOL}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** TESSERA_WORKERS: a number of processes, or `auto` for one per core this process may use. */
function workerCount(env: EnvVariables): number {
  const name = 'TESSERA_WORKERS';
  const raw = envString(env, name, '1');
  if (raw === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_WORKERS)
    throw new ConfigError(name, `must be a number from 1 to ${MAX_WORKERS}, or auto, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** TESSERA_AUDIT_RETENTION_DAYS: a whole number of days. */
function auditRetentionDays(env: EnvVariables): number {
  const name = 'TESSERA_AUDIT_RETENTION_DAYS';
  const { fallback, min, max } = AUDIT_RETENTION_DAYS;
  const raw = envString(env, name, String(fallback));
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new ConfigError(name, `must be a number of days from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const isLoopbackAddress = (host: string) => isLoopbackHost(host.includes(':') ? `[${host}]` : host);

/**
 * TESSERA_METRICS_PORT (unset: no metrics endpoint), TESSERA_METRICS_HOST (default loopback) and
 * TESSERA_METRICS_TOKEN. The issuer's own port is refused: what it serves is public.
 */
function metricsEndpoint(env: EnvVariables, issuerPort: number): MetricsEndpoint | undefined {
  const token = envString(env, 'TESSERA_METRICS_TOKEN', '') || undefined;
  if (token !== undefined && (token.length < MIN_METRICS_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)))
    throw new ConfigError(
      'TESSERA_METRICS_TOKEN',
      `must be at least ${MIN_METRICS_TOKEN_LENGTH} visible ASCII characters (a random secret)`,
    );
  if (!env.TESSERA_METRICS_PORT) {
    if (token !== undefined || env.TESSERA_METRICS_HOST)
      throw new ConfigError('TESSERA_METRICS_PORT', 'is required when TESSERA_METRICS_HOST or _TOKEN is set');
    return undefined;
  }
  const port = envPort(env, 'TESSERA_METRICS_PORT', 0);
  if (port === issuerPort)
    throw new ConfigError('TESSERA_METRICS_PORT', `must differ from the issuer's port ${issuerPort}, which is public`);
  return { host: envString(env, 'TESSERA_METRICS_HOST', '127.0.0.1'), port, token };
}

/** TESSERA_SMTP_URL: an smtp: or smtps: URL (nodemailer's form: user and password in it, if any). */
function smtpUrl(env: EnvVariables): string | undefined {
  const raw = envString(env, 'TESSERA_SMTP_URL', '');
  if (raw === '') return undefined;
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname)
    throw new ConfigError('TESSERA_SMTP_URL', 'must be an smtp:// or smtps:// URL with a host');
  return raw;
}

/**
 * TESSERA_MAIL_FROM: the sender, by default no-reply at the issuer's own host, so that mail
 * says where it comes from. A display name is allowed (`Tessera <no-reply@example.com>`);
 * line breaks are refused, as they would end the header (RFC 5322 §2.2).
 */
function mailFrom(env: EnvVariables, issuer: string): string {
  const raw = envString(env, 'TESSERA_MAIL_FROM', `Tessera <no-reply@${new URL(issuer).hostname}>`);
  if (!/^[^\r\n]{0,200}?<?[^\s@<>]{1,64}@[^\s@<>]{1,255}>?$/.test(raw))
    throw new ConfigError('TESSERA_MAIL_FROM', `must be an email address, got ${JSON.stringify(raw.slice(0, 100))}`);
  return raw;
}

/**
 * Where development mail goes without SMTP: TESSERA_MAIL_OUTBOX, by default `outbox/` beside the
 * SQLite database (the demo's `data/outbox/`), or `data/outbox/` when the database is elsewhere.
 */
function outboxDirectory(env: EnvVariables, database: string): string {
  const beside = /^postgres(ql)?:\/\//i.test(database) || database === ':memory:' ? 'data' : dirname(database);
  return envString(env, 'TESSERA_MAIL_OUTBOX', join(beside, 'outbox'));
}

function mailSettings(env: EnvVariables, issuer: string, database: string): MailSettings {
  const url = smtpUrl(env);
  return {
    from: mailFrom(env, issuer),
    transport:
      url !== undefined ? { kind: 'smtp', url } : { kind: 'outbox', directory: outboxDirectory(env, database) },
  };
}

/**
 * What NODE_ENV=production refuses, each by the variable that sets it, read before anything else
 * so that every one is reported at once: an operator fixes them in one go, not one restart each.
 */
function unsafeInProduction(env: EnvVariables): string[] {
  const unsafe: string[] = [];
  const kek = envBase64urlBytes(env, 'TESSERA_KEY_ENCRYPTION_KEY', 32);
  if (kek === undefined)
    unsafe.push('TESSERA_KEY_ENCRYPTION_KEY is required when NODE_ENV=production (32 random bytes, base64url)');
  // Compared as bytes: base64url spells the same 32 bytes four ways (the last character's two spare bits).
  else if (DEMO_KEY_BYTES.equals(kek))
    unsafe.push('TESSERA_KEY_ENCRYPTION_KEY: the demo key is refused when NODE_ENV=production');
  // Refused in every mode too (envIssuerIdentifier), and named here with the rest. http on loopback
  // is one machine's deployment (the benchmarks' production runs), which TLS would not protect more.
  const issuer = URL.parse(env.TESSERA_ISSUER || DEFAULT_ISSUER);
  if (issuer?.protocol === 'http:' && !isLoopbackHost(issuer.hostname))
    unsafe.push(`TESSERA_ISSUER: http off a loopback host (${issuer.host}); serve it over https (docs/deploy.md)`);
  const metricsHost = env.TESSERA_METRICS_HOST || '127.0.0.1';
  if (env.TESSERA_METRICS_PORT && !env.TESSERA_METRICS_TOKEN && !isLoopbackAddress(metricsHost))
    unsafe.push(
      `TESSERA_METRICS_HOST: ${metricsHost} is not loopback, and TESSERA_METRICS_TOKEN is not set: ` +
        'the metrics would be open to the network',
    );
  // The outbox is the demo's: in production mail must reach people.
  if (!env.TESSERA_SMTP_URL)
    unsafe.push('TESSERA_SMTP_URL is required when NODE_ENV=production (the outbox is for development only)');
  // Open sign-up without email verification would let anyone claim an address they do not hold
  // (account pre-hijacking). It is not refused here because it cannot be configured: a new
  // account is refused at sign-in until its address is verified, whatever TESSERA_SIGN_UP says.
  return unsafe;
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: EnvVariables = process.env): Config {
  const production = env.NODE_ENV === 'production';
  if (production) {
    const unsafe = unsafeInProduction(env);
    if (unsafe.length > 0) {
      const variables = [...new Set(unsafe.map((line) => /^[A-Z_]+/.exec(line)![0]))];
      // One line, as every start-up failure is (runServer's exitOnStartFailure).
      throw new ConfigError(variables.join(', '), `refused when NODE_ENV=production: ${unsafe.join('; ')}`);
    }
  }
  const issuer = envIssuerIdentifier(env, 'TESSERA_ISSUER', DEFAULT_ISSUER);
  const port = envPort(env, 'TESSERA_PORT', Number(new URL(issuer).port || 4000));
  const metrics = metricsEndpoint(env, port);
  const kek = keyEncryptionKey(env);
  const database = envString(env, 'TESSERA_DATABASE', './data/tessera.db');
  const lifetimes = Object.fromEntries(
    Object.entries(DURATION_SETTINGS).map(([field, { variable, fallback, min, max }]) => [
      field,
      envDuration(env, variable, fallback, min, max),
    ]),
  ) as Record<DurationField, number>;
  return {
    issuer,
    host: envString(env, 'TESSERA_HOST', '127.0.0.1'),
    port,
    database,
    databasePool: databasePool(env),
    keyEncryptionKey: kek.key,
    usingDemoKeyEncryptionKey: kek.demo,
    production,
    signingAlgorithm: envOneOf(env, 'TESSERA_SIGNING_ALG', SIGNING_ALGORITHMS, 'ES256'),
    ...lifetimes,
    trustProxy: parseTrustedProxies(env.TESSERA_TRUST_PROXY),
    workers: workerCount(env),
    auditRetentionDays: auditRetentionDays(env),
    metrics,
    mail: mailSettings(env, issuer, database),
    // Closed unless the operator opens it in production; open in the demo, to be tried.
    signUp: envOneOf(env, 'TESSERA_SIGN_UP', SIGN_UP_POLICIES, production ? 'closed' : 'open'),
  };
}
