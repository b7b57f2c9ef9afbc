/**
 * Registering users, clients and resources, and changing clients (used by the CLI, the admin
 * console and demo seeding). Every value is checked here, so nothing malformed reaches the store
 * from any path.
 */
import { DEVICE_CODE_GRANT_TYPE, GRANT_TYPES, SCOPES, TOKEN_EXCHANGE_GRANT_TYPE } from '@tessera/shared';
import type { Clock } from '@tessera/shared';
import type { PasswordHasher } from '../crypto/passwords.js';
import { digest } from '../crypto/digest.js';
import { randomId, randomSecret } from '../crypto/random.js';
import type { Client, ClientJwks, ClientParty, ClientType, Resource, Store, User } from '../store/index.js';
import { clientJwksProblem, jwksUriProblem } from './client-keys.js';
import { audit } from './audit.js';
import { fedcmOriginProblem, publicPageUriProblem } from './fedcm-origin.js';
import { checkNewPassword } from './password-policy.js';
import { redirectUriProblem } from './redirect-uri.js';

export class RegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistrationError';
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export async function registerUser(
  deps: { store: Store; passwords: PasswordHasher; clock: Clock },
  input: {
    email: string;
    displayName: string;
    password: string;
    /**
     * Whether the address counts as verified: yes for an operator's registration (the CLI, the demo
     * seed), who vouches for it; sign-up says no until the person follows the link mailed there.
     */
    emailVerified?: boolean;
  },
): Promise<User> {
  if (!EMAIL.test(input.email.trim())) throw new RegistrationError('email is not a valid address');
  if (!input.displayName.trim() || input.displayName.length > 200)
    throw new RegistrationError('display name must be 1–200 characters');
  const refusal = checkNewPassword(input.password, input);
  if (refusal) throw new RegistrationError(refusal.reason);
  const user = await deps.store.users.create({
    sub: randomId(),
    email: input.email,
    displayName: input.displayName.trim(),
    passwordHash: await deps.passwords.hash(input.password),
    emailVerified: input.emailVerified ?? true,
    now: deps.clock.now(),
  });
  await audit(deps, 'user.created', { subject: user.sub });
  return user;
}

export interface ClientInput {
  id?: string;
  name: string;
  type: ClientType;
  party: ClientParty;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string | null;
  scopes?: string[];
  resources?: string[];
  /**
   * Grant types beyond authorization_code (which a client with redirect URIs always has):
   * 'refresh_token', 'client_credentials', the device code grant's URN (RFC 8628).
   */
  grantTypes?: string[];
  /**
   * Resources it may exchange a person's access token for (RFC 8693); giving any registers the
   * client for the token exchange grant.
   */
  exchangeTargets?: string[];
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof. */
  dpopBound?: boolean;
  /** RFC 9126 §6: accept its authorization requests only when pushed first (/par). */
  requirePushedAuthorizationRequests?: boolean;
  /** Every sign-in for it needs a second factor or a passkey (acr at least ACR_MFA). */
  requireMfa?: boolean;
  /** Use this secret instead of generating one (demo seeding only). */
  secret?: string;
  /** Public keys for private_key_jwt instead of a secret (OIDC Dynamic Client Registration §2 `jwks`)… */
  jwks?: unknown;
  /** …or where the client publishes them (`jwks_uri`). */
  jwksUri?: string;
  /** Origins whose pages may sign people in through FedCM (none: FedCM is off for the client). */
  fedcmOrigins?: string[];
  /** RFC 7591 §2 `policy_uri` and `tos_uri`, shown by the browser's FedCM dialog. */
  policyUri?: string | null;
  tosUri?: string | null;
}

/** Checks a registration; returns the resources it names, as registered. */
async function checkClient(store: Store, input: ClientInput): Promise<Resource[]> {
  if (!input.name.trim() || input.name.length > 200) throw new RegistrationError('name must be 1–200 characters');
  if (input.type !== 'confidential' && input.type !== 'public')
    throw new RegistrationError('type must be confidential or public');
  if (input.party !== 'first' && input.party !== 'third') throw new RegistrationError('party must be first or third');
  const grantTypes = input.grantTypes ?? [];
  for (const g of grantTypes)
    if (!(GRANT_TYPES as readonly string[]).includes(g)) throw new RegistrationError(`unknown grant type ${g}`);
  // A client that signs people in through a browser needs somewhere to send them back; a machine
  // client, or a device that polls (RFC 8628), does not.
  if (
    input.redirectUris.length === 0 &&
    !grantTypes.includes('client_credentials') &&
    !grantTypes.includes(DEVICE_CODE_GRANT_TYPE)
  )
    throw new RegistrationError('at least one redirect URI is required');
  // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
  if (grantTypes.includes('client_credentials') && input.type !== 'confidential')
    throw new RegistrationError('only a confidential client may use the client credentials grant');
  for (const uri of [...input.redirectUris, ...(input.postLogoutRedirectUris ?? [])]) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new RegistrationError(`redirect URI ${uri} ${problem}`);
  }
  if (input.backchannelLogoutUri) {
    const problem = redirectUriProblem(input.backchannelLogoutUri);
    if (problem) throw new RegistrationError(`back-channel logout URI ${input.backchannelLogoutUri} ${problem}`);
  }
  const resources: Resource[] = [];
  for (const r of input.resources ?? []) {
    const resource = await store.resources.findById(r);
    if (!resource) throw new RegistrationError(`resource ${r} is not registered`);
    resources.push(resource);
  }
  // A client may be allowed OpenID scopes and the scopes its resources define, nothing else.
  const known = new Set<string>([...SCOPES, ...resources.flatMap((r) => r.scopes)]);
  for (const s of input.scopes ?? [])
    if (!known.has(s)) throw new RegistrationError(`scope ${s} is neither an OpenID scope nor one of its resources'`);
  if (input.type === 'public' && input.secret) throw new RegistrationError('a public client has no secret');
  for (const r of input.exchangeTargets ?? [])
    if (!(await store.resources.findById(r))) throw new RegistrationError(`resource ${r} is not registered`);
  // A token exchange acts for a person at another API: only a client that proves who it is may.
  if ((input.exchangeTargets ?? []).length > 0 && input.type !== 'confidential')
    throw new RegistrationError('only a confidential client may exchange tokens');
  if (input.jwks !== undefined || input.jwksUri !== undefined) {
    // OIDC Dynamic Client Registration §2: jwks and jwks_uri MUST NOT both be present.
    if (input.jwks !== undefined && input.jwksUri !== undefined)
      throw new RegistrationError('register keys inline (jwks) or by URI (jwks_uri), not both');
    if (input.type !== 'confidential')
      throw new RegistrationError('only a confidential client authenticates with keys');
    if (input.secret) throw new RegistrationError('a client that authenticates with keys has no secret');
    const problem =
      input.jwks !== undefined ? await clientJwksProblem(input.jwks) : jwksUriProblem(input.jwksUri as string);
    if (problem)
      throw new RegistrationError(
        input.jwks !== undefined ? `jwks ${problem}` : `jwks_uri ${input.jwksUri} ${problem}`,
      );
  }
  for (const origin of input.fedcmOrigins ?? []) {
    const problem = fedcmOriginProblem(origin);
    if (problem) throw new RegistrationError(`FedCM origin ${origin} ${problem}`);
  }
  // FedCM issues a code like the authorization endpoint does, so only a client of that grant may.
  if ((input.fedcmOrigins ?? []).length > 0 && input.redirectUris.length === 0)
    throw new RegistrationError('a FedCM client signs people in: it needs a redirect URI too');
  for (const [name, uri] of [
    ['policy_uri', input.policyUri],
    ['tos_uri', input.tosUri],
  ] as const) {
    const problem = uri ? publicPageUriProblem(uri) : undefined;
    if (problem) throw new RegistrationError(`${name} ${uri} ${problem}`);
  }
  if (input.id !== undefined && !/^[A-Za-z0-9._~-]{1,64}$/.test(input.id))
    throw new RegistrationError('client id must be 1–64 unreserved characters');
  return resources;
}

/**
 * A checked registration as stored, with its secret (confidential clients: given, or 256 random
 * bits) shown once; only the digest is kept.
 */
async function clientFrom(
  store: Store,
  input: ClientInput,
  identity: { id: string; createdAt: number },
): Promise<{ client: Client; secret?: string }> {
  const resources = await checkClient(store, input);
  // A private_key_jwt client has keys and no secret at all (RFC 7523 §2.2).
  const usesKeys = input.jwks !== undefined || input.jwksUri !== undefined;
  const secret = input.type === 'confidential' && !usesKeys ? (input.secret ?? randomSecret()) : undefined;
  const client: Client = {
    ...identity,
    name: input.name.trim(),
    type: input.type,
    party: input.party,
    secretDigest: secret === undefined ? null : digest(secret),
    redirectUris: input.redirectUris,
    postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
    backchannelLogoutUri: input.backchannelLogoutUri ?? null,
    // By default every OpenID scope and every scope of the client's resources.
    allowedScopes: input.scopes ?? [...new Set([...SCOPES, ...resources.flatMap((r) => r.scopes)])],
    allowedResources: input.resources ?? [],
    // Redirect URIs mean the client signs people in: the authorization code grant.
    grantTypes: [
      ...new Set([
        ...(input.redirectUris.length > 0 ? ['authorization_code'] : []),
        ...(input.grantTypes ?? []),
        ...((input.exchangeTargets ?? []).length > 0 ? [TOKEN_EXCHANGE_GRANT_TYPE] : []),
      ]),
    ],
    dpopBound: input.dpopBound ?? false,
    exchangeTargets: input.exchangeTargets ?? [],
    jwks: input.jwks === undefined ? null : (input.jwks as ClientJwks),
    jwksUri: input.jwksUri ?? null,
    requirePushedAuthorizationRequests: input.requirePushedAuthorizationRequests ?? false,
    requireMfa: input.requireMfa ?? false,
    fedcmOrigins: [...new Set(input.fedcmOrigins ?? [])],
    policyUri: input.policyUri || null,
    tosUri: input.tosUri || null,
  };
  return secret === undefined ? { client } : { client, secret };
}

/** Who changed a registration, for the audit trail: an admin's `sub` and address, or the CLI. */
export interface Registrar {
  actor: string;
  ip: string | null;
}

const byWhom = (by: Registrar | undefined) =>
  by ? { ip: by.ip, actor: { actor: by.actor } } : { ip: null, actor: {} };

/** Registers a client; a confidential client's secret is returned once and only its digest kept. */
export async function registerClient(
  deps: { store: Store; clock: Clock },
  input: ClientInput,
  by?: Registrar,
): Promise<{ client: Client; secret?: string }> {
  const registered = await clientFrom(deps.store, input, { id: input.id ?? randomId(), createdAt: deps.clock.now() });
  const { client } = registered;
  if (await deps.store.clients.findById(client.id)) throw new RegistrationError(`client ${client.id} already exists`);
  await deps.store.clients.create(client);
  const { ip, actor } = byWhom(by);
  await audit(deps, 'client.created', {
    clientId: client.id,
    ip,
    detail: { type: client.type, party: client.party, ...actor },
  });
  return registered;
}

/** What an operator may change of a registered client (the rest stays as registered). */
export interface ClientChange {
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  resources?: string[];
  requireMfa?: boolean;
  /** Replaces the FedCM origins; `[]` turns FedCM off for the client. */
  fedcmOrigins?: string[];
  /** A URI, or null to remove it. */
  policyUri?: string | null;
  tosUri?: string | null;
}

async function existingClient(store: Store, id: string): Promise<Client> {
  const client = id.length <= 64 ? await store.clients.findById(id) : undefined;
  if (!client) throw new RegistrationError(`client ${id} does not exist`);
  return client;
}

/**
 * Changes a client's redirect URIs, resources, second-factor requirement, FedCM origins or policy and
 * terms pages, checked as a new
 * registration is; its id, secret and keys stay. Scopes of resources it no longer has go with them.
 */
export async function reviseClient(
  deps: { store: Store; clock: Clock },
  id: string,
  change: ClientChange,
  by?: Registrar,
): Promise<Client> {
  const existing = await existingClient(deps.store, id);
  const resources = change.resources ?? existing.allowedResources;
  const resourceScopes = new Set<string>();
  for (const r of resources)
    for (const s of (await deps.store.resources.findById(r))?.scopes ?? []) resourceScopes.add(s);
  const derived = new Set<string>(['authorization_code', TOKEN_EXCHANGE_GRANT_TYPE]);
  const { client } = await clientFrom(
    deps.store,
    {
      id: existing.id,
      name: existing.name,
      type: existing.type,
      party: existing.party,
      redirectUris: change.redirectUris ?? existing.redirectUris,
      postLogoutRedirectUris: change.postLogoutRedirectUris ?? existing.postLogoutRedirectUris,
      backchannelLogoutUri: existing.backchannelLogoutUri,
      scopes: existing.allowedScopes.filter((s) => (SCOPES as readonly string[]).includes(s) || resourceScopes.has(s)),
      resources,
      grantTypes: existing.grantTypes.filter((g) => !derived.has(g)),
      exchangeTargets: existing.exchangeTargets,
      dpopBound: existing.dpopBound,
      requirePushedAuthorizationRequests: existing.requirePushedAuthorizationRequests,
      requireMfa: change.requireMfa ?? existing.requireMfa,
      fedcmOrigins: change.fedcmOrigins ?? existing.fedcmOrigins,
      policyUri: change.policyUri !== undefined ? change.policyUri : existing.policyUri,
      tosUri: change.tosUri !== undefined ? change.tosUri : existing.tosUri,
      ...(existing.jwks !== null ? { jwks: existing.jwks } : {}),
      ...(existing.jwksUri !== null ? { jwksUri: existing.jwksUri } : {}),
    },
    { id: existing.id, createdAt: existing.createdAt },
  );
  // The secret is not part of the change: the digest stays (clientFrom made a new one).
  const revised = { ...client, secretDigest: existing.secretDigest };
  await deps.store.clients.update(revised);
  const { ip, actor } = byWhom(by);
  await audit(deps, 'client.updated', { clientId: id, ip, detail: { changed: Object.keys(change).sort(), ...actor } });
  return revised;
}

/**
 * A new secret for a confidential client that authenticates with one, shown once; the old one
 * stops working at once (no node caches a client).
 */
export async function rotateClientSecret(
  deps: { store: Store; clock: Clock },
  id: string,
  by?: Registrar,
): Promise<string> {
  const existing = await existingClient(deps.store, id);
  if (existing.secretDigest === null)
    throw new RegistrationError(`client ${id} has no secret (a public client, or one that authenticates with keys)`);
  const secret = randomSecret();
  await deps.store.clients.update({ ...existing, secretDigest: digest(secret) });
  const { ip, actor } = byWhom(by);
  await audit(deps, 'client.secret_rotated', { clientId: id, ip, detail: { ...actor } });
  return secret;
}

/** Replaces an existing client's registration with `input` (demo seeding keeps URLs current). */
export async function updateClient(
  deps: { store: Store; clock: Clock },
  existing: Client,
  input: ClientInput,
): Promise<{ client: Client; secret?: string }> {
  const registered = await clientFrom(deps.store, input, { id: existing.id, createdAt: existing.createdAt });
  await deps.store.clients.update(registered.client);
  return registered;
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/**
 * Registers an API: its identifier is an absolute URI without a fragment (RFC 8707 §2); its scopes
 * are what machine clients may be limited to, and are not OpenID's own scope names.
 */
export async function registerResource(
  deps: { store: Store; clock: Clock },
  input: { id: string; name: string; scopes?: string[] },
  by?: Registrar,
): Promise<Resource> {
  const scopes = [...new Set(input.scopes ?? [])];
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s)) throw new RegistrationError(`scope ${JSON.stringify(s)} is not a valid scope token`);
    if ((SCOPES as readonly string[]).includes(s)) throw new RegistrationError(`scope ${s} is an OpenID scope`);
  }
  let ok = false;
  try {
    ok = !!new URL(input.id) && !input.id.includes('#');
  } catch {
    ok = false;
  }
  if (!ok) throw new RegistrationError('resource identifier must be an absolute URI without a fragment');
  if (!input.name.trim() || input.name.length > 200) throw new RegistrationError('name must be 1–200 characters');
  if (await deps.store.resources.findById(input.id)) throw new RegistrationError(`resource ${input.id} already exists`);
  const resource = await deps.store.resources.create({
    id: input.id,
    name: input.name.trim(),
    scopes,
    createdAt: deps.clock.now(),
  });
  if (by) await audit(deps, 'resource.created', { ip: by.ip, detail: { resource: resource.id, actor: by.actor } });
  return resource;
}

/**
 * Removes a client's registration. Its codes, grants and consents go with it (ON DELETE CASCADE),
 * and with its grants their refresh and access tokens: every node refuses the client, its refresh
 * tokens, and its access tokens at userinfo and introspection from its next request on, since no
 * node caches a client. Logout tokens already queued for it are still delivered (the sessions they
 * end were ended while it was registered); the audit trail keeps its events.
 */
export async function deleteClient(deps: { store: Store; clock: Clock }, id: string, by?: Registrar): Promise<void> {
  if (!(await deps.store.clients.delete(id))) throw new RegistrationError(`client ${id} does not exist`);
  const { ip, actor } = byWhom(by);
  await audit(deps, 'client.deleted', { clientId: id, ip, ...(by ? { detail: actor } : {}) });
}
