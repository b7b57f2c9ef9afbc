/**
 * A software WebAuthn authenticator for tests: real P-256 keys (node:crypto), real CBOR
 * attestation objects (format "none", WebAuthn §8.7) and real assertion signatures over the
 * authenticator data and the client data's hash (WebAuthn §6.3.3), the way a browser and a
 * platform authenticator answer the issuer's options. Each part of what it sends (origin, RP ID,
 * flags, counter, user handle) can be set wrong, to play an attacker.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  /** The COSE_Key (EC2, P-256, ES256). */
  cosePublicKey: Uint8Array;
  rpId: string;
  /** The user handle the RP gave at registration, base64url. */
  userHandle: string;
  counter: number;
  /** A synced passkey (backup eligible and backed up) rather than one bound to this device. */
  synced: boolean;
}

/** What a ceremony's answer may carry that a real authenticator would not: an attacker's choices. */
export interface Tampering {
  origin?: string;
  rpId?: string;
  type?: string;
  challenge?: string;
  /** Flags instead of UP|UV (and the backup flags of a synced passkey). */
  flags?: number;
  /** The counter to sign instead of the next one. */
  counter?: number;
  userHandle?: string | null;
}

function coseKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 9053 §7.1.1: kty 2 (EC2), alg -7 (ES256), crv 1 (P-256), x, y.
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
}

function counterBytes(counter: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(counter);
  return b;
}

/** Options as the issuer's page carries them (PublicKeyCredential*OptionsJSON). */
interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}
interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export class SoftwareAuthenticator {
  readonly credentials: Credential[] = [];

  constructor(
    /** The origin the "browser" reports in client data: the page's. */
    readonly origin: string,
    /** A credential id every new credential takes (to play one copying another's id); else random. */
    private readonly fixedId?: Buffer,
  ) {}

  private clientData(type: string, challenge: string, t: Tampering): string {
    return b64url(
      Buffer.from(
        JSON.stringify({ type: t.type ?? type, challenge: t.challenge ?? challenge, origin: t.origin ?? this.origin }),
      ),
    );
  }

  /** navigator.credentials.create(): a new discoverable credential, answered as RegistrationResponseJSON. */
  create(
    options: CreationOptions,
    o: { synced?: boolean; counter?: number } & Tampering = {},
  ): Record<string, unknown> {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: Credential = {
      id: this.fixedId ?? randomBytes(32),
      privateKey,
      cosePublicKey: coseKey(publicKey),
      rpId,
      userHandle: options.user.id,
      counter: o.counter ?? 0,
      synced: o.synced ?? false,
    };
    const backup = credential.synced ? FLAGS.BE | FLAGS.BS : 0;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const authData = Buffer.concat([
      sha256(o.rpId ?? rpId),
      Buffer.from([o.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT | backup]),
      counterBytes(credential.counter),
      Buffer.alloc(16), // AAGUID: none, as with attestation "none"
      idLength,
      credential.id,
      Buffer.from(credential.cosePublicKey),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    this.credentials.push(credential);
    const id = b64url(credential.id);
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, o),
        attestationObject: b64url(attestationObject),
        transports: ['internal', 'hybrid'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * navigator.credentials.get(): an assertion with `credential` (by default the newest), the
   * counter moved on by one unless `o.counter` says otherwise, answered as AuthenticationResponseJSON.
   */
  get(options: RequestOptions, o: Tampering & { credential?: Credential } = {}): Record<string, unknown> {
    const credential = o.credential ?? this.credentials.at(-1);
    if (!credential) throw new Error('this authenticator holds no credential');
    const rpId = o.rpId ?? options.rpId ?? credential.rpId;
    const counter = o.counter ?? (credential.counter === 0 ? 0 : credential.counter + 1);
    credential.counter = counter;
    const backup = credential.synced ? FLAGS.BE | FLAGS.BS : 0;
    const authenticatorData = Buffer.concat([
      sha256(rpId),
      Buffer.from([o.flags ?? FLAGS.UP | FLAGS.UV | backup]),
      counterBytes(counter),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, o);
    // ECDSA over authenticatorData || SHA-256(clientDataJSON), DER-encoded (WebAuthn §6.3.3, §6.5.5).
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, sha256(Buffer.from(clientDataJSON, 'base64url'))]),
      credential.privateKey,
    );
    const id = b64url(credential.id);
    const userHandle = o.userHandle === undefined ? credential.userHandle : o.userHandle;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
