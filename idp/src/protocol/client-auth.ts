/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3,
 * OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt (RFC 7523 §2.2), or
 * `none` for public clients. Each client has exactly one way in, fixed by its registration.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import {
  DEFAULT_CLOCK_TOLERANCE_SEC,
  OAuthError,
  TokenVerificationError,
  type KeySet,
  type VerificationKey,
} from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest, safeEqual } from '../crypto/digest.js';
import type { Client } from '../store/index.js';
import { CLIENT_ASSERTION_ALGORITHMS, usesPrivateKeyJwt } from './client-keys.js';
import type { Params } from './params.js';

/** RFC 7523 §2.2: the one client assertion type this issuer accepts. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Longest an assertion may live, from now to its `exp`, in seconds. RFC 7523 §3 item 4 lets the
 * server refuse an `exp` "unreasonably far in the future"; a client makes a fresh one per request
 * (openid-client: 60 s), and the bound is also how long its `jti` must be remembered.
 */
export const MAX_ASSERTION_LIFETIME_SEC = 300;
/**
 * Leeway for `exp`, `nbf` and `iat` between the client's clock and ours, in seconds: the one rule
 * for every time check of what another machine signed (docs/architecture.md, "Invariants").
 */
export const ASSERTION_CLOCK_SKEW_SEC = DEFAULT_CLOCK_TOLERANCE_SEC;
/** Bounds on untrusted input before any parsing or storing. */
const MAX_ASSERTION_BYTES = 8 * 1024;
const MAX_JTI_LENGTH = 256;

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding. */
function parseBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

export class InvalidClientError extends OAuthError {
  constructor(
    description: string,
    /** True when the client tried HTTP Basic: the 401 then names that scheme (RFC 6749 §5.2). */
    readonly usedBasic: boolean,
  ) {
    super('invalid_client', description, { status: 401 });
  }
}

/** Authenticates the client of a request; throws invalid_client (401) on any failure. */
export async function authenticateClient(
  ctx: IssuerContext,
  authorization: string | undefined,
  params: Params,
): Promise<Client> {
  const basic = authorization ? parseBasic(authorization) : undefined;
  if (authorization && !basic) throw new InvalidClientError('malformed Authorization header', true);
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  const assertionType = params.get('client_assertion_type');
  const assertion = params.get('client_assertion');
  const usesAssertion = assertionType !== undefined || assertion !== undefined;
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request.
  if ([basic !== undefined, postSecret !== undefined, usesAssertion].filter(Boolean).length > 1)
    throw new OAuthError('invalid_request', 'use one client authentication method, not two');
  if (basic && postId !== undefined && postId !== basic.id)
    throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');
  if (usesAssertion) return authenticateByAssertion(ctx, assertionType, assertion, postId);

  const id = basic?.id ?? postId;
  if (!id) throw new InvalidClientError('client authentication is required', false);
  const secret = basic?.secret ?? postSecret;
  const client = await ctx.store.clients.findById(id);
  if (!client) throw new InvalidClientError('client authentication failed', !!basic);

  if (client.type === 'public') {
    // Public clients authenticate with `none`: sending a secret is a misconfiguration.
    if (secret !== undefined) throw new InvalidClientError('client authentication failed', !!basic);
    return client;
  }
  // A private_key_jwt client has no secret: whatever it sends as one is refused, whoever sends it.
  if (usesPrivateKeyJwt(client)) {
    ctx.log.warn('client_auth.refused', { clientId: client.id, reason: 'a secret for a private_key_jwt client' });
    throw new InvalidClientError(
      'client authentication failed: this client authenticates with private_key_jwt',
      !!basic,
    );
  }
  if (secret === undefined || client.secretDigest === null || !safeEqual(digest(secret), client.secretDigest)) {
    throw new InvalidClientError('client authentication failed', !!basic);
  }
  return client;
}

/** A refused assertion: the reason goes to the log and, as it holds nothing secret, to the client. */
class AssertionRefused extends InvalidClientError {
  constructor(readonly reason: string) {
    super(`client assertion refused: ${reason}`, false);
  }
}

/**
 * private_key_jwt (RFC 7523 §2.2, §3; RFC 7521 §4.2; OIDC Core §9). Every check that needs no
 * write comes first; the `jti` is recorded last, so a refused assertion changes nothing stored.
 */
async function authenticateByAssertion(
  ctx: IssuerContext,
  assertionType: string | undefined,
  assertion: string | undefined,
  postId: string | undefined,
): Promise<Client> {
  try {
    return await verifyAssertion(ctx, assertionType, assertion, postId);
  } catch (e) {
    if (e instanceof AssertionRefused) {
      ctx.log.warn('client_auth.assertion_refused', { clientId: postId?.slice(0, 64), reason: e.reason });
    }
    throw e;
  }
}

async function verifyAssertion(
  ctx: IssuerContext,
  assertionType: string | undefined,
  assertion: string | undefined,
  postId: string | undefined,
): Promise<Client> {
  // RFC 7521 §4.2.1: a bad assertion, or a type we do not accept, is invalid_client.
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw new AssertionRefused('unsupported client_assertion_type');
  if (!assertion) throw new AssertionRefused('client_assertion is required');
  if (assertion.length > MAX_ASSERTION_BYTES) throw new AssertionRefused('client_assertion is too large');

  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    throw new AssertionRefused('client_assertion is not a JWT');
  }
  // RFC 7523 §3 items 1–2: for client authentication, iss and sub are both the client_id.
  const clientId = unverified.sub;
  if (typeof clientId !== 'string' || clientId === '') throw new AssertionRefused('sub is required');
  if (unverified.iss !== clientId) throw new AssertionRefused('iss must equal sub (the client_id)');
  // RFC 7521 §4.2: client_id is optional, and names the same client when sent.
  if (postId !== undefined && postId !== clientId) throw new AssertionRefused('sub must equal client_id');

  const client = await ctx.store.clients.findById(clientId);
  const keySet = client && ctx.clientKeys.keySetOf(client);
  if (!client || !keySet) throw new AssertionRefused('no client with this id authenticates with private_key_jwt');

  // RFC 8725 §3.1: only the asymmetric algorithms we list; `none` and HMAC never reach a key.
  if (typeof header.alg !== 'string' || !CLIENT_ASSERTION_ALGORITHMS.includes(header.alg))
    throw new AssertionRefused(`alg ${String(header.alg).slice(0, 20)} is not accepted`);
  const key = await keyFor(ctx, client, header.kid, await keySet);
  // Each registered key verifies with its one algorithm, whatever the header says (RFC 8725 §2.1).
  if (key.alg !== header.alg) throw new AssertionRefused(`key ${key.kid} signs with ${key.alg}, not ${header.alg}`);

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, key.key, {
      algorithms: [key.alg],
      issuer: clientId,
      subject: clientId,
      clockTolerance: ASSERTION_CLOCK_SKEW_SEC,
      currentDate: new Date(ctx.clock.now()),
      // RFC 7523 §3 items 3–4, 7: aud, exp and (this issuer's replay rule) jti are required.
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (e) {
    throw new AssertionRefused(joseReason(e));
  }

  // Audience: the issuer identifier and nothing else. draft-ietf-oauth-rfc7523bis (updating
  // RFC 7523 §3 item 3 and RFC 7521 §5.1, after the OpenID Foundation's 2025 disclosure of the
  // private_key_jwt audience attack): the authorization server MUST reject a JWT that does not
  // hold its issuer identifier as its sole audience value, and the token endpoint URL MUST NOT be
  // used. Accepting the token endpoint URL is what the attack needs: a malicious server that names
  // our token endpoint as its own gets assertions it can replay here, whereas an issuer identifier
  // is checked against discovery by the client. openid-client v6 (oauth4webapi 3.x,
  // clientAssertionPayload) sends `aud: as.issuer` as a string, so nothing else is needed.
  const aud = payload.aud;
  const sole = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  if (sole !== ctx.config.issuer) throw new AssertionRefused('aud must be the issuer identifier alone');

  const now = ctx.clock.now() / 1000;
  const exp = payload.exp!;
  if (exp > now + MAX_ASSERTION_LIFETIME_SEC + ASSERTION_CLOCK_SKEW_SEC)
    throw new AssertionRefused(`exp is more than ${MAX_ASSERTION_LIFETIME_SEC} s ahead`);
  // RFC 7519 §4.1.6: an assertion issued in our future (beyond the skew) is not one to trust yet.
  if (payload.iat !== undefined && payload.iat > now + ASSERTION_CLOCK_SKEW_SEC)
    throw new AssertionRefused('iat is in the future');
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
    throw new AssertionRefused(`jti must be a string of 1–${MAX_JTI_LENGTH} characters`);

  // RFC 7523 §3 item 7: single use. Kept until the assertion is refused by its exp anyway (the
  // skew included); the insert decides between concurrent requests on any node.
  const keptUntil = (exp + ASSERTION_CLOCK_SKEW_SEC) * 1000;
  if (!(await ctx.store.clientAssertions.use(client.id, jti, keptUntil)))
    throw new AssertionRefused('jti was already used');
  return client;
}

/**
 * The registered key the assertion names. Without a `kid`, only a client with one inline key has
 * an unambiguous answer (OIDC Core §10.1: with several keys, a `kid` MUST be sent); a `jwks_uri`
 * may hold several at any time, so its assertions must name theirs.
 */
async function keyFor(
  ctx: IssuerContext,
  client: Client,
  kid: string | undefined,
  keySet: KeySet,
): Promise<VerificationKey> {
  let wanted = kid;
  if (wanted === undefined) {
    const only = client.jwks?.keys.length === 1 ? client.jwks.keys[0]!.kid : undefined;
    if (typeof only !== 'string') throw new AssertionRefused('kid is required: the client has several keys');
    wanted = only;
  }
  if (typeof wanted !== 'string' || wanted === '') throw new AssertionRefused('kid must be a non-empty string');
  try {
    return await keySet.getKey(wanted);
  } catch (e) {
    if (e instanceof TokenVerificationError && e.code === 'ERR_JWKS_UNAVAILABLE') {
      // The client's key server is down or answered nonsense: its fault, not ours, so no 500.
      ctx.log.warn('client_auth.jwks_unavailable', {
        clientId: client.id,
        jwksUri: client.jwksUri,
        error: e.cause instanceof Error ? e.cause.message : e.message,
      });
      throw new AssertionRefused("the client's jwks_uri could not be fetched");
    }
    throw new AssertionRefused(`no key of the client has kid ${wanted.slice(0, 64)}`);
  }
}

/** The reason jose refused an assertion, in the client's terms. */
function joseReason(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'the assertion has expired';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'the signature is invalid';
  if (e instanceof errors.JWTClaimValidationFailed) return `claim ${e.claim}: ${e.reason}`;
  if (e instanceof errors.JOSEAlgNotAllowed) return 'alg is not accepted';
  return 'the assertion is malformed';
}
