/**
 * The issuer's command line: users, clients, resources, signing keys and backups.
 *
 *   npm run idp -- users create --email a@example.com --name "Ann"   (password from stdin or a prompt)
 *   npm run idp -- users delete a@example.com [--json]
 *   npm run idp -- clients create --name App --type confidential --redirect-uri https://app/cb [--json]
 *   npm run idp -- resources create --id https://api.example.com --name API
 *   npm run idp -- users invite EMAIL                                  (mails a sign-up link)
 *   npm run idp -- users|clients|resources list [--json]
 *   npm run idp -- users grant-admin|revoke-admin|disable|enable EMAIL [--json]
 *   npm run idp -- clients delete --id CLIENT_ID [--json]
 *   npm run idp -- clients update --id CLIENT_ID [--redirect-uri URI ...] [--require-mfa|--no-require-mfa] [--json]
 *   npm run idp -- clients update --id CLIENT_ID --fedcm-origin https://app.example [--policy-uri URL] [--json]
 *   npm run idp -- clients rotate-secret --id CLIENT_ID [--json]
 *   npm run idp -- keys list [--json]
 *   npm run idp -- keys rotate [--force] [--json]
 *   npm run idp -- backup FILE [--json]
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_CODE_GRANT_TYPE, silentLogger, systemClock } from '@tessera/shared';
import { ConfigError } from '@tessera/shared';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/config.js';
import { createPasswordHasher } from '../crypto/passwords.js';
import { createIssuer } from '../issuer.js';
import { listSigningKeys, rotateFromCommand } from '../keys/key-commands.js';
import { deleteAccount } from '../protocol/account-deletion.js';
import { KeyRotationError } from '../keys/key-rotation.js';
import { tokenEndpointAuthMethod, usesPrivateKeyJwt } from '../protocol/client-keys.js';
import { checkNewPassword } from '../protocol/password-policy.js';
import {
  RegistrationError,
  deleteClient,
  registerClient,
  registerResource,
  registerUser,
  reviseClient,
  rotateClientSecret,
  type ClientChange,
} from '../protocol/registration.js';
import { BackupError, backupSqlite, EmailTakenError, isPostgresUrl, openStore, type Store } from '../store/index.js';
import { openOperatorContext } from '../issuer.js';
import {
  CLI_OPERATOR,
  UnknownPerson,
  disableAccountByEmail,
  enableAccountByEmail,
  setAdminRole,
} from '../protocol/users-admin.js';
import { PasswordNotChosenError, readNewPassword } from './read-password.js';
import { createLogger } from '@tessera/shared/node';
import { Mailer } from '../mail/mailer.js';
import { IssuerMetrics } from '../metrics/metrics.js';
import { inviteByEmail } from '../protocol/sign-up.js';

const USAGE = `usage: npm run idp -- <command> [options]

  users create --email EMAIL --name NAME [--json]    password is read from stdin or a prompt;
                                                     at least 15 characters, not a common one
  users invite EMAIL [--json]                         mails EMAIL a link to sign up (TESSERA_SIGN_UP
                                                     open or invite), good once, for 7 days
  users list [--json]
  users delete EMAIL [--json]                        ends every session of the person (apps told by
                                                     back-channel logout) and deletes their account
                                                     and personal data (README, "Privacy")
  users grant-admin EMAIL [--json]                   the person may use the admin console (/admin),
                                                     after signing in with a second factor or a passkey
  users revoke-admin EMAIL [--json]                  takes the admin role back
  users disable EMAIL [--json]                       refuses every sign-in, grant and token of the
                                                     person, ends their sessions (the apps are told by
                                                     back-channel logout) and revokes their grants
  users enable EMAIL [--json]                        lets a disabled person sign in again
  clients create --name NAME --type confidential|public [--party first|third]
                 --redirect-uri URI [--redirect-uri URI ...]
                 [--post-logout-redirect-uri URI ...] [--backchannel-logout-uri URI]
                 [--scope SCOPE ...] [--resource URI ...] [--id CLIENT_ID]
                 [--grant-type refresh_token|client_credentials|device_code ...]
                 [--exchange-for URI ...] [--dpop-bound] [--require-par] [--require-mfa]
                 [--fedcm-origin ORIGIN ...] [--policy-uri URL] [--tos-uri URL] [--json]
                                                     --scope: OpenID scopes and its resources' scopes
                                                     (default: all of them); a machine client
                                                     (--grant-type client_credentials) or a device
                                                     (device_code, RFC 8628) needs no --redirect-uri;
                                                     --exchange-for: a resource it may exchange a
                                                     person's access token for (RFC 8693);
                                                     --dpop-bound: every token request must carry a
                                                     DPoP proof (RFC 9449 §5.2)
                 [--jwks-file PATH | --jwks-uri URI]
                                                     private_key_jwt: the client's public keys (a JWK
                                                     Set in a file, or where the client serves it)
                                                     instead of a secret; confidential clients only
                                                     --require-par: its authorization requests only
                                                     through /par (RFC 9126 §6)
                                                     --require-mfa: every sign-in for it needs a
                                                     second factor or a passkey
                                                     --fedcm-origin: an origin (scheme://host[:port];
                                                     https, or http on localhost/loopback) whose pages
                                                     may sign people in with FedCM; none: FedCM off
                                                     --policy-uri, --tos-uri: its privacy policy and
                                                     terms, linked from the browser's FedCM dialog
  clients list [--json]
  clients update --id CLIENT_ID [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...]
                 [--resource URI ...] [--require-mfa | --no-require-mfa]
                 [--fedcm-origin ORIGIN ... | --no-fedcm] [--policy-uri URL] [--tos-uri URL] [--json]
                                                     each list given replaces the registered one;
                                                     scopes of resources it no longer has go too;
                                                     --no-fedcm: no FedCM origins (FedCM off); an
                                                     empty --policy-uri or --tos-uri removes it
  clients rotate-secret --id CLIENT_ID [--json]      a new secret, shown once; the old one stops working
  clients delete --id CLIENT_ID [--json]             the client, its grants, consents and tokens go;
                                                     every running issuer refuses it from its next
                                                     request on
  resources create --id URI --name NAME [--scope SCOPE ...] [--json]
                                                     --scope: the scopes the API defines (e.g. read)
  resources list [--json]
                                                     a client allowed one --resource gets tokens for it
                                                     when it names none (RFC 8707 resource parameter);
                                                     allowed several, it gets a token for the userinfo
                                                     endpoint only unless it names one
  audit list [--type TYPE] [--since 24h|ISO-TIME] [--limit N] [--json]
                                                     the audit trail, newest first
  keys list [--json]                                 signing keys: kid, alg, state, times, when due
  keys rotate [--force] [--json]                     the next key signs from now on, once it has been
                                                     published for one JWKS max-age; --force skips that
                                                     wait (UNSAFE: verifiers whose cached JWKS lacks the
                                                     key fail until they fetch it again)
  backup FILE [--json]                               a consistent copy of the SQLite database while the
                                                     issuer serves (SQLite's online backup); FILE must
                                                     not exist. PostgreSQL: pg_dump (docs/deploy.md)

The database is TESSERA_DATABASE (default ./data/tessera.db).`;

class UsageError extends Error {}
/** A well-formed command that cannot be done (exit 1, its message alone). */
class CommandError extends Error {}

/** `--scope` given once per scope, or once with several separated by spaces. */
const scopesOf = (values: string[]): string[] => values.flatMap((v) => v.split(' ')).filter(Boolean);

const OPTIONS = {
  json: { type: 'boolean' },
  email: { type: 'string' },
  name: { type: 'string' },
  type: { type: 'string' },
  party: { type: 'string' },
  id: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  'backchannel-logout-uri': { type: 'string' },
  resource: { type: 'string', multiple: true },
  'exchange-for': { type: 'string', multiple: true },
  'dpop-bound': { type: 'boolean' },
  force: { type: 'boolean' },
  'grant-type': { type: 'string', multiple: true },
  'jwks-file': { type: 'string' },
  'jwks-uri': { type: 'string' },
  'require-par': { type: 'boolean' },
  'require-mfa': { type: 'boolean' },
  'no-require-mfa': { type: 'boolean' },
  'fedcm-origin': { type: 'string', multiple: true },
  'no-fedcm': { type: 'boolean' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--since`: a duration back from now (30m, 24h, 7d) or an ISO time. */
function parseSince(value: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(value);
  if (m) return Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError('--since must be a duration such as 24h or an ISO time');
  return t;
}

/** `--jwks-file`: a JWK Set of the client's public keys, as JSON (checked by registration). */
function readJwksFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--jwks-file ${path} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`--jwks-file ${path} is not JSON`);
  }
}

/** `users disable EMAIL`: the one operand after the noun and verb. */
function onePositional(positionals: string[], name: string): string {
  if (positionals.length !== 3 || !positionals[2]) throw new UsageError(`expected one ${name}`);
  return positionals[2];
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required`);
  return value;
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const keys = Object.keys(rows[0]!);
  const cell = (v: unknown) => (Array.isArray(v) ? v.join(' ') : v === null || v === undefined ? '' : String(v));
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => cell(r[k]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(keys), ...rows.map((r) => line(keys.map((k) => cell(r[k]))))].join('\n');
}

async function run(argv: string[], store: Store, config: Config): Promise<string> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [noun, verb] = positionals;
  const out = (data: unknown, text: string) => (values.json ? JSON.stringify(data, null, 2) : text);
  const deps = { store, clock: systemClock };

  if (values.help || !noun) return USAGE;
  if (noun === 'users' && verb === 'create') {
    const email = required(values.email, 'email');
    const displayName = required(values.name, 'name');
    const password = await readNewPassword(email, (p) => checkNewPassword(p, { email, displayName }));
    const user = await registerUser(
      { ...deps, passwords: await createPasswordHasher() },
      { email, displayName, password },
    );
    return out(
      { sub: user.sub, email: user.email, name: user.displayName },
      `created user ${user.email} (sub ${user.sub})`,
    );
  }
  if (noun === 'users' && verb === 'delete') {
    const email = positionals[2];
    if (email === undefined || positionals.length > 3) throw new UsageError('users delete takes one EMAIL');
    const user = await store.users.findByEmail(email);
    if (!user) throw new CommandError(`no user with the email ${email}`);
    // The issuer's own context: ending sessions signs logout tokens and sets status-list bits.
    // Its deliveries are queued in the store; a running issuer sends whatever this one has not.
    const issuer = await createIssuer(config, { log: silentLogger });
    try {
      const deleted = await deleteAccount(issuer.ctx, user.sub, { ip: null, actor: 'cli' });
      if (!deleted) throw new CommandError(`no user with the email ${email}`);
      return out(
        { sub: user.sub, deleted: true, sessions_ended: deleted.sessions, access_tokens_revoked: deleted.accessTokens },
        `deleted user ${user.email} (sub ${user.sub}): ${deleted.sessions} session(s) ended, ` +
          `${deleted.accessTokens} access token(s) revoked`,
      );
    } finally {
      await issuer.close();
    }
  }
  if (noun === 'users' && verb === 'invite') {
    const email = positionals[2];
    if (!email) throw new UsageError('users invite needs the address: users invite EMAIL');
    // The CLI's own mailer, on the issuer's settings: SMTP, or the outbox the issuer's viewer reads.
    const mailer = new Mailer(config.mail, {
      log: createLogger('cli'),
      metrics: new IssuerMetrics({ processMetrics: false }),
    });
    try {
      await inviteByEmail({ store, clock: systemClock, config, mailer }, email, 'cli');
    } finally {
      await mailer.close();
    }
    return out({ invited: email }, `mailed ${email} an invitation to sign up`);
  }
  if (noun === 'users' && verb === 'list') {
    const users = (await store.users.list()).map((u) => ({ sub: u.sub, email: u.email, name: u.displayName }));
    return out(users, table(users));
  }
  if (noun === 'users' && (verb === 'grant-admin' || verb === 'revoke-admin')) {
    const email = onePositional(positionals, 'EMAIL');
    const admin = verb === 'grant-admin';
    const changed = await setAdminRole(deps, email, admin, CLI_OPERATOR);
    const state = admin ? 'is an admin' : 'is not an admin';
    return out({ email, admin, changed }, `${email} ${state}${changed ? '' : ' already'}`);
  }
  if (noun === 'users' && (verb === 'disable' || verb === 'enable')) {
    const email = onePositional(positionals, 'EMAIL');
    const disabled = verb === 'disable';
    const changed = disabled
      ? await disableAccountByEmail(await openOperatorContext(store, config), email, CLI_OPERATOR)
      : await enableAccountByEmail(deps, email, CLI_OPERATOR);
    const state = disabled ? 'is disabled' : 'is enabled';
    return out({ email, disabled, changed }, `${email} ${state}${changed ? '' : ' already'}`);
  }
  if (noun === 'clients' && verb === 'create') {
    const type = required(values.type, 'type');
    if (type !== 'confidential' && type !== 'public') throw new UsageError('--type must be confidential or public');
    const party = values.party ?? 'first';
    if (party !== 'first' && party !== 'third') throw new UsageError('--party must be first or third');
    const { client, secret } = await registerClient(deps, {
      ...(values.id ? { id: values.id } : {}),
      name: required(values.name, 'name'),
      type,
      party,
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
      backchannelLogoutUri: values['backchannel-logout-uri'] ?? null,
      ...(values.scope ? { scopes: scopesOf(values.scope) } : {}),
      resources: values.resource ?? [],
      // The device grant by its short name too: its URN is long to type.
      grantTypes: (values['grant-type'] ?? []).map((g) => (g === 'device_code' ? DEVICE_CODE_GRANT_TYPE : g)),
      exchangeTargets: values['exchange-for'] ?? [],
      ...(values['jwks-file'] !== undefined ? { jwks: readJwksFile(values['jwks-file']) } : {}),
      ...(values['jwks-uri'] !== undefined ? { jwksUri: values['jwks-uri'] } : {}),
      dpopBound: values['dpop-bound'] ?? false,
      requirePushedAuthorizationRequests: values['require-par'] ?? false,
      requireMfa: values['require-mfa'] ?? false,
      fedcmOrigins: values['fedcm-origin'] ?? [],
      policyUri: values['policy-uri'] ?? null,
      tosUri: values['tos-uri'] ?? null,
    });
    const data = {
      client_id: client.id,
      ...(secret ? { client_secret: secret } : {}),
      type: client.type,
      party: client.party,
      token_endpoint_auth_method: tokenEndpointAuthMethod(client),
    };
    return out(
      data,
      `created client ${client.name}\nclient_id:     ${client.id}` +
        (usesPrivateKeyJwt(client) ? '\nauthenticates with private_key_jwt (no secret)' : '') +
        (secret ? `\nclient_secret: ${secret}\n(the secret is shown once; only its digest is stored)` : ''),
    );
  }
  if (noun === 'clients' && verb === 'list') {
    const clients = (await store.clients.list()).map((c) => ({
      client_id: c.id,
      name: c.name,
      type: c.type,
      party: c.party,
      redirect_uris: c.redirectUris,
      scopes: c.allowedScopes,
      resources: c.allowedResources,
      grant_types: c.grantTypes,
      exchange_for: c.exchangeTargets,
      fedcm_origins: c.fedcmOrigins,
    }));
    return out(clients, table(clients));
  }
  if (noun === 'clients' && verb === 'update') {
    const id = required(values.id, 'id');
    if (values['require-mfa'] && values['no-require-mfa'])
      throw new UsageError('--require-mfa and --no-require-mfa contradict each other');
    if (values['fedcm-origin'] && values['no-fedcm'])
      throw new UsageError('--fedcm-origin and --no-fedcm contradict each other');
    const change: ClientChange = {
      ...(values['redirect-uri'] ? { redirectUris: values['redirect-uri'] } : {}),
      ...(values['post-logout-redirect-uri'] ? { postLogoutRedirectUris: values['post-logout-redirect-uri'] } : {}),
      ...(values.resource ? { resources: values.resource } : {}),
      ...(values['require-mfa'] ? { requireMfa: true } : values['no-require-mfa'] ? { requireMfa: false } : {}),
      ...(values['fedcm-origin']
        ? { fedcmOrigins: values['fedcm-origin'] }
        : values['no-fedcm']
          ? { fedcmOrigins: [] }
          : {}),
      // An empty value removes the link.
      ...(values['policy-uri'] !== undefined ? { policyUri: values['policy-uri'] || null } : {}),
      ...(values['tos-uri'] !== undefined ? { tosUri: values['tos-uri'] || null } : {}),
    };
    if (Object.keys(change).length === 0) throw new UsageError('nothing to update: give what changes');
    const c = await reviseClient(deps, id, change, CLI_OPERATOR);
    const data = {
      client_id: c.id,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      resources: c.allowedResources,
      scopes: c.allowedScopes,
      require_mfa: c.requireMfa,
      fedcm_origins: c.fedcmOrigins,
      policy_uri: c.policyUri,
      tos_uri: c.tosUri,
    };
    return out(data, `updated client ${c.id}\n${table([data])}`);
  }
  if (noun === 'clients' && verb === 'rotate-secret') {
    const id = required(values.id, 'id');
    const secret = await rotateClientSecret(deps, id, CLI_OPERATOR);
    return out(
      { client_id: id, client_secret: secret },
      `client_id:     ${id}\nclient_secret: ${secret}\n(the secret is shown once; the old one no longer works)`,
    );
  }
  if (noun === 'clients' && verb === 'delete') {
    const id = required(values.id, 'id');
    await deleteClient(deps, id);
    return out({ client_id: id, deleted: true }, `deleted client ${id}`);
  }
  if (noun === 'resources' && verb === 'create') {
    const r = await registerResource(deps, {
      id: required(values.id, 'id'),
      name: required(values.name, 'name'),
      scopes: scopesOf(values.scope ?? []),
    });
    return out({ id: r.id, name: r.name, scopes: r.scopes }, `registered resource ${r.id}`);
  }
  if (noun === 'resources' && verb === 'list') {
    const resources = (await store.resources.list()).map((r) => ({ id: r.id, name: r.name, scopes: r.scopes }));
    return out(resources, table(resources));
  }
  if (noun === 'audit' && verb === 'list') {
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new UsageError('--limit must be an integer from 1 to 10000');
    const events = (
      await store.audit.list({
        ...(values.type ? { type: values.type } : {}),
        ...(values.since ? { since: parseSince(values.since) } : {}),
        limit,
      })
    ).map((e) => ({
      time: new Date(e.at).toISOString(),
      type: e.type,
      subject: e.subject,
      client_id: e.clientId,
      ip: e.ip,
      detail: e.detail,
    }));
    return out(events, table(events.map((e) => ({ ...e, detail: e.detail ? JSON.stringify(e.detail) : '' }))));
  }
  if (noun === 'keys' && verb === 'list') {
    const keys = await listSigningKeys({ store, config });
    return out(keys, table(keys));
  }
  if (noun === 'keys' && verb === 'rotate') {
    const { rotation, text } = await rotateFromCommand({ ...deps, config }, values.force ?? false);
    return out(rotation, text);
  }
  if (noun === 'backup') {
    if (verb === undefined || positionals.length > 2) throw new UsageError('backup takes one FILE');
    const destination = resolve(process.env.INIT_CWD ?? process.cwd(), verb);
    const { pages } = await backupSqlite(store, destination);
    return out({ file: destination, pages }, `backed up the database to ${destination} (${pages} pages)`);
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

async function main(): Promise<number> {
  let store: Store | undefined;
  try {
    const loaded = loadConfig();
    // `npm run idp` runs in idp/: a relative database path means relative to where the operator
    // typed the command (npm's INIT_CWD), so that at the top of the repository the CLI opens the
    // demo's ./data/tessera.db, as `npm start` does.
    const base = process.env.INIT_CWD ?? process.cwd();
    const database =
      isPostgresUrl(loaded.database) || isAbsolute(loaded.database) ? loaded.database : resolve(base, loaded.database);
    const { mail } = loaded;
    // The outbox likewise, so that the issuer's mail viewer finds what the CLI wrote.
    const transport =
      mail.transport.kind === 'outbox'
        ? { kind: 'outbox' as const, directory: resolve(base, mail.transport.directory) }
        : mail.transport;
    const config = { ...loaded, database, mail: { ...mail, transport } };
    store = await openStore(config.database, { poolSize: config.databasePool });
    process.stdout.write(`${await run(process.argv.slice(2), store, config)}\n`);
    return 0;
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (
      e instanceof RegistrationError ||
      e instanceof EmailTakenError ||
      e instanceof ConfigError ||
      e instanceof KeyRotationError ||
      e instanceof BackupError ||
      e instanceof PasswordNotChosenError ||
      e instanceof CommandError ||
      e instanceof UnknownPerson
    ) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await store?.close();
  }
}

process.exitCode = await main();
