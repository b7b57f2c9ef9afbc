/**
 * Passkeys (WebAuthn Level 3): registering one from the account page, signing in with one instead
 * of a password, and the person's list of them. The relying party is the issuer itself: its RP ID
 * is the issuer's host and the one origin accepted is the issuer's (WebAuthn §7.1
 * and §7.2, the origin and RP ID checks). Every ceremony answers a challenge the issuer stored for
 * that ceremony and that interaction or session, used once. A refusal changes no passkey.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  VerifiedAuthenticationResponse,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuthenticationMethod } from '@tessera/shared';
import type { Config } from '../config/config.js';
import type { IssuerContext } from '../context.js';
import type { Passkey, SsoSession, User, WebAuthnCeremony } from '../store/index.js';
import { audit } from './audit.js';

/**
 * @simplewebauthn/server, loaded at the first ceremony: importing it takes about a quarter of a
 * second, which every issuer process (and every test file that starts one) would otherwise pay at
 * start-up whether or not anyone uses a passkey.
 */
let webAuthnLibrary: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webAuthn = () => (webAuthnLibrary ??= import('@simplewebauthn/server'));

/** How long a ceremony may take, from the page that starts it to its answer. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

/** A person's name for a passkey: what the list shows, at most this long. */
export const PASSKEY_NAME_MAX = 64;

/** Credential ids are at most 1023 bytes (WebAuthn §6.1): 1364 base64url characters. */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1364}$/;

export const isCredentialId = (value: string): boolean => CREDENTIAL_ID.test(value);

/** The relying party the issuer is: its RP ID (the issuer's host) and its one origin. */
export function relyingParty(config: Pick<Config, 'issuer'>): { id: string; origin: string; name: string } {
  const url = new URL(config.issuer);
  return { id: url.hostname, origin: url.origin, name: 'Tessera' };
}

/** Why a ceremony's answer was refused: for the audit trail, never shown (one message for all). */
export type PasskeyRefusal =
  | 'malformed_response'
  | 'unknown_challenge'
  | 'unknown_credential'
  | 'user_handle_mismatch'
  | 'verification_failed'
  | 'counter_regressed'
  | 'credential_registered';

export class PasskeyRefused extends Error {
  override name = 'PasskeyRefused';
  constructor(
    readonly reason: PasskeyRefusal,
    readonly detail: string = reason,
  ) {
    super(`passkey refused: ${reason}`);
  }
}

/**
 * A person's name for a passkey, trimmed, or undefined when empty or too long. Control characters
 * are removed: the name is shown back on pages and written to the audit trail.
 */
export function passkeyName(input: string | undefined): string | undefined {
  const name = (input ?? '').replace(/\p{Cc}/gu, '').trim();
  return name.length === 0 || name.length > PASSKEY_NAME_MAX ? undefined : name;
}

/**
 * What a passkey with user verification proves (RFC 8176 §2): a key bound to one device (`hwk`)
 * or a synced one (`swk`) — the backup-eligible flag tells them apart (WebAuthn §6.1.3) —, the
 * user's verification by the authenticator (`user`), and so two factors (`mfa`).
 */
export function passkeyMethods(passkey: Pick<Passkey, 'deviceType'>): AuthenticationMethod[] {
  return [passkey.deviceType === 'multiDevice' ? 'swk' : 'hwk', 'user', 'mfa'];
}

/** WebAuthn's user handle for a person: their opaque `sub` (never their email: WebAuthn §14.6.1). */
const userHandle = (user: Pick<User, 'sub'>) => new TextEncoder().encode(user.sub);

async function issueChallenge(
  ctx: IssuerContext,
  challenge: string,
  ceremony: WebAuthnCeremony,
  boundTo: string,
): Promise<void> {
  await ctx.store.webauthnChallenges.create({
    challenge,
    ceremony,
    boundTo,
    expiresAt: ctx.clock.now() + CHALLENGE_TTL_MS,
  });
}

/**
 * Uses up the challenge the answer's client data carries, if the issuer issued it for this
 * ceremony and binding and it is unexpired (WebAuthn §13.4.3: a challenge is answered once).
 * Returns it, for the verification to compare with what the authenticator signed.
 */
async function useChallenge(
  ctx: IssuerContext,
  clientDataJSON: string,
  ceremony: WebAuthnCeremony,
  boundTo: string,
): Promise<string> {
  let challenge: unknown;
  try {
    // WebAuthn §5.8.1: the client data is UTF-8 JSON, base64url-encoded in the JSON form of the answer.
    challenge = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown })
      .challenge;
  } catch {
    throw new PasskeyRefused('malformed_response', 'client data is not JSON');
  }
  if (typeof challenge !== 'string' || challenge.length > 512)
    throw new PasskeyRefused('malformed_response', 'client data has no challenge');
  if (!(await ctx.store.webauthnChallenges.consume(challenge, ceremony, boundTo, ctx.clock.now())))
    throw new PasskeyRefused('unknown_challenge');
  return challenge;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The browser's answer (a PublicKeyCredential as JSON, WebAuthn §5.1 toJSON()), checked for the
 * fields every step reads; what they hold is the verification's to judge.
 */
function parseCredential<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(
  json: string,
  fields: readonly string[],
): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new PasskeyRefused('malformed_response', 'not JSON');
  }
  if (!isObject(value) || typeof value.id !== 'string' || !isCredentialId(value.id) || value.rawId !== value.id)
    throw new PasskeyRefused('malformed_response', 'no credential id');
  const response = value.response;
  if (!isObject(response) || !fields.every((f) => typeof response[f] === 'string'))
    throw new PasskeyRefused('malformed_response', 'response fields missing');
  if (!isObject(value.clientExtensionResults)) value.clientExtensionResults = {};
  return value as unknown as T;
}

// --- Registration (WebAuthn §7.1) -------------------------------------------------------------

/**
 * Options for registering a new passkey for the session's person: a discoverable credential
 * (so it can sign in without an email), user verification required, no attestation asked for
 * (the issuer trusts no authenticator model over another), the person's passkeys excluded.
 */
export async function startPasskeyRegistration(
  ctx: IssuerContext,
  session: SsoSession,
  user: User,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(ctx.config);
  const existing = await ctx.store.passkeys.listForUser(user.sub);
  const options = await (await webAuthn()).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: userHandle(user),
    userName: user.email,
    userDisplayName: user.displayName,
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    // ES256 and RS256 cover every platform authenticator and security key in use; EdDSA too.
    supportedAlgorithmIDs: [-7, -8, -257],
  });
  await issueChallenge(ctx, options.challenge, 'registration', session.id);
  return options;
}

/**
 * Verifies the browser's answer to a registration challenge issued to `session` and stores the
 * passkey under `name`. Refusals are audited and store nothing; throws PasskeyRefused.
 */
export async function finishPasskeyRegistration(
  ctx: IssuerContext,
  session: SsoSession,
  answer: { credential: string; name: string; ip: string },
): Promise<Passkey> {
  const rp = relyingParty(ctx.config);
  try {
    const response = parseCredential<RegistrationResponseJSON>(answer.credential, [
      'clientDataJSON',
      'attestationObject',
    ]);
    const challenge = await useChallenge(ctx, response.response.clientDataJSON, 'registration', session.id);
    let verified: VerifiedRegistrationResponse;
    try {
      verified = await (await webAuthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        requireUserVerification: true,
      });
    } catch (e) {
      throw new PasskeyRefused('verification_failed', e instanceof Error ? e.message : String(e));
    }
    if (!verified.verified) throw new PasskeyRefused('verification_failed');
    const info = verified.registrationInfo;
    const now = ctx.clock.now();
    const passkey: Passkey = {
      id: info.credential.id,
      userId: session.userId,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: (response.response.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: answer.name,
      createdAt: now,
      lastUsedAt: null,
    };
    // A credential id is one authenticator's key: another person's (or this person's) already.
    if (!(await ctx.store.passkeys.create(passkey))) throw new PasskeyRefused('credential_registered');
    await audit(ctx, 'passkey.registered', {
      subject: session.userId,
      ip: answer.ip,
      detail: { credential: passkey.id, name: passkey.name, deviceType: passkey.deviceType },
    });
    return passkey;
  } catch (e) {
    if (e instanceof PasskeyRefused)
      await audit(ctx, 'passkey.refused', {
        subject: session.userId,
        ip: answer.ip,
        detail: { ceremony: 'registration', reason: e.reason, why: e.detail.slice(0, 200) },
      });
    throw e;
  }
}

// --- Authentication (WebAuthn §7.2) -----------------------------------------------------------

/**
 * Options for signing in with a passkey at the sign-in page of interaction `interactionId`: no
 * credentials listed (the authenticator offers the discoverable ones it holds for this RP ID, also
 * through the browser's autofill), user verification required — the passkey stands in for both
 * the password and a second factor.
 */
export async function startPasskeySignIn(
  ctx: IssuerContext,
  interactionId: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await (await webAuthn()).generateAuthenticationOptions({
    rpID: relyingParty(ctx.config).id,
    userVerification: 'required',
    timeout: CHALLENGE_TTL_MS,
  });
  await issueChallenge(ctx, options.challenge, 'authentication', interactionId);
  return options;
}

/** What a verified assertion established: whose passkey, which, and whether the user was verified. */
export interface PasskeyAssertion {
  user: User;
  passkey: Passkey;
  userVerified: boolean;
}

/**
 * Verifies an assertion answering a challenge issued to `boundTo` (an interaction), and records
 * the use. `expectedUser`, when the ceremony was for a person already known (a second factor),
 * must own the passkey. Throws PasskeyRefused; the caller audits.
 */
export async function verifyPasskeyAssertion(
  ctx: IssuerContext,
  credential: string,
  boundTo: string,
  expectedUser?: string,
  /** Whether the authenticator must have verified the user (a passkey standing in for a password). */
  userVerification: 'required' | 'preferred' = 'required',
): Promise<PasskeyAssertion> {
  const rp = relyingParty(ctx.config);
  const response = parseCredential<AuthenticationResponseJSON>(credential, [
    'clientDataJSON',
    'authenticatorData',
    'signature',
  ]);
  const challenge = await useChallenge(ctx, response.response.clientDataJSON, 'authentication', boundTo);
  const passkey = await ctx.store.passkeys.find(response.id);
  if (!passkey) throw new PasskeyRefused('unknown_credential');
  // WebAuthn §7.2 (identifying the user): the credential must belong to the person the ceremony is for — named by
  // the user handle the authenticator returned, and by who is signing in if that is known.
  const handle = response.response.userHandle;
  if (expectedUser !== undefined && passkey.userId !== expectedUser)
    throw new PasskeyRefused('user_handle_mismatch', 'the passkey is another person’s');
  if (expectedUser === undefined && typeof handle !== 'string')
    throw new PasskeyRefused('user_handle_mismatch', 'no user handle');
  if (
    typeof handle === 'string' &&
    handle !== '' &&
    Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId
  )
    throw new PasskeyRefused('user_handle_mismatch', 'the user handle names another person');
  let verified: VerifiedAuthenticationResponse;
  try {
    verified = await (await webAuthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: userVerification === 'required',
      // The counter is judged below, once the signature is known to be the authenticator's, so
      // that a counter that went back is told apart from a bad signature and audited as a clone.
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: 0,
        transports: [],
      },
    });
  } catch (e) {
    throw new PasskeyRefused('verification_failed', e instanceof Error ? e.message : String(e));
  }
  if (!verified.verified) throw new PasskeyRefused('verification_failed');
  const { newCounter, credentialBackedUp, userVerified } = verified.authenticationInfo;
  // WebAuthn §6.1.1 and §7.2 (the signature counter): an authenticator that keeps a counter never repeats or lowers
  // it; one that did is possibly cloned. The store's compare-and-set also refuses the second of two
  // concurrent assertions with one counter.
  const recorded = await ctx.store.passkeys.recordUse(passkey.id, {
    counter: newCounter,
    backedUp: credentialBackedUp,
    now: ctx.clock.now(),
  });
  if (!recorded) {
    await audit(ctx, 'passkey.counter_regressed', {
      subject: passkey.userId,
      detail: { credential: passkey.id, stored: passkey.counter, presented: newCounter },
    });
    throw new PasskeyRefused('counter_regressed', `counter ${newCounter} after ${passkey.counter}`);
  }
  const user = await ctx.store.users.findBySub(passkey.userId);
  if (!user) throw new PasskeyRefused('unknown_credential', 'the passkey’s person is gone');
  return { user, passkey: { ...passkey, counter: newCounter, lastUsedAt: ctx.clock.now() }, userVerified };
}

/**
 * Audits a passkey change refused because the session signed in too long ago (the fresh sign-in
 * gate, routes/fresh-sign-in.ts): someone at a session left open tried to change how it signs in.
 */
export async function auditStaleSignIn(
  ctx: IssuerContext,
  session: SsoSession,
  action: 'register' | 'remove',
  ip: string,
): Promise<void> {
  await audit(ctx, 'passkey.refused', {
    subject: session.userId,
    ip,
    detail: { action, reason: 'sign_in_not_fresh', authTime: session.authTime },
  });
}

// --- A passkey as the second factor after a password ------------------------------------------

/**
 * Whom a second-factor ceremony is for and where it runs: the factor page of interaction
 * `interactionId`, for the person `userId` — the one whose password was right in that interaction
 * (its pending person, before any session), or the signed-in person whose session must add a factor
 * (a step-up). The challenge is bound to both, so it is answered only there and only for them.
 */
export interface PasskeyFactorBinding {
  interactionId: string;
  userId: string;
}

/**
 * What a second-factor challenge is bound to: apart from the interaction's sign-in challenges (bound
 * to its id alone), so an answer to one ceremony is never taken by the other.
 */
const factorBinding = (b: PasskeyFactorBinding) => `factor:${b.interactionId}:${b.userId}`;

/**
 * Options for proving one of the person's passkeys after their password: their passkeys listed (the
 * person is known), user verification preferred — the passkey is the factor the person has; one
 * that also verified them says so (`user`). Undefined when the person has no passkey.
 */
export async function startPasskeyFactor(
  ctx: IssuerContext,
  binding: PasskeyFactorBinding,
): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  const passkeys = await ctx.store.passkeys.listForUser(binding.userId);
  if (passkeys.length === 0) return undefined;
  const options = await (await webAuthn()).generateAuthenticationOptions({
    rpID: relyingParty(ctx.config).id,
    allowCredentials: passkeys.map((p) => ({ id: p.id, transports: p.transports })),
    userVerification: 'preferred',
    timeout: CHALLENGE_TTL_MS,
  });
  await issueChallenge(ctx, options.challenge, 'authentication', factorBinding(binding));
  return options;
}

/**
 * Verifies a passkey assertion answering the second-factor challenge of `binding`: the passkey must
 * be the binding's person's (WebAuthn §7.2 — another person's passkey proves nothing about this
 * one). Returns the methods it proves (RFC 8176: hwk or swk, and user if verified); refusals are
 * audited and throw PasskeyRefused.
 */
export async function provePasskeyFactor(
  ctx: IssuerContext,
  binding: PasskeyFactorBinding,
  answer: { credential: string; ip: string },
): Promise<AuthenticationMethod[]> {
  try {
    const { passkey, userVerified } = await verifyPasskeyAssertion(
      ctx,
      answer.credential,
      factorBinding(binding),
      binding.userId,
      'preferred',
    );
    await audit(ctx, 'passkey.factor_proved', {
      subject: binding.userId,
      ip: answer.ip,
      detail: { interaction: binding.interactionId, credential: passkey.id, userVerified },
    });
    const [device] = passkeyMethods(passkey);
    return userVerified ? [device!, 'user'] : [device!];
  } catch (e) {
    if (e instanceof PasskeyRefused)
      await audit(ctx, 'passkey.refused', {
        subject: binding.userId,
        ip: answer.ip,
        detail: { ceremony: 'second_factor', reason: e.reason, why: e.detail.slice(0, 200) },
      });
    throw e;
  }
}

// --- The account page's list ------------------------------------------------------------------

/** The person's passkeys, as the account page lists them. */
export function listPasskeys(ctx: IssuerContext, session: SsoSession): Promise<Passkey[]> {
  return ctx.store.passkeys.listForUser(session.userId);
}

/** Thrown when the session's person has no passkey by that id. */
export class PasskeyNotFound extends Error {
  override name = 'PasskeyNotFound';
}

export async function renamePasskey(
  ctx: IssuerContext,
  session: SsoSession,
  change: { id: string; name: string; ip: string },
): Promise<void> {
  if (!(await ctx.store.passkeys.rename(change.id, session.userId, change.name))) {
    await audit(ctx, 'passkey.refused', {
      subject: session.userId,
      ip: change.ip,
      detail: { action: 'rename', reason: 'unknown_credential', credential: change.id.slice(0, 64) },
    });
    throw new PasskeyNotFound();
  }
  await audit(ctx, 'passkey.renamed', {
    subject: session.userId,
    ip: change.ip,
    detail: { credential: change.id, name: change.name },
  });
}

export async function removePasskey(
  ctx: IssuerContext,
  session: SsoSession,
  change: { id: string; ip: string },
): Promise<void> {
  if (!(await ctx.store.passkeys.remove(change.id, session.userId))) {
    await audit(ctx, 'passkey.refused', {
      subject: session.userId,
      ip: change.ip,
      detail: { action: 'remove', reason: 'unknown_credential', credential: change.id.slice(0, 64) },
    });
    throw new PasskeyNotFound();
  }
  await audit(ctx, 'passkey.removed', { subject: session.userId, ip: change.ip, detail: { credential: change.id } });
}
