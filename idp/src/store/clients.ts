/** Registered clients (RFC 6749 §2) and resources (RFC 8707). */
import { eq } from 'drizzle-orm';
import { lookupBy, type Db } from './database.js';
import { clients, resources } from './schema.js';

export type ClientType = 'confidential' | 'public';
export type ClientParty = 'first' | 'third';
/** A JWK Set (RFC 7517 §5) of public keys only, checked at registration. */
export interface ClientJwks {
  keys: Record<string, unknown>[];
}

export interface Client {
  id: string;
  name: string;
  type: ClientType;
  party: ClientParty;
  secretDigest: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  allowedScopes: string[];
  allowedResources: string[];
  /** 'authorization_code', 'refresh_token', 'client_credentials', the token exchange URN (RFC 8693). */
  grantTypes: string[];
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: its token requests must carry a DPoP proof. */
  dpopBound: boolean;
  /** Resources it may exchange a person's access token for (RFC 8693); nothing else. */
  exchangeTargets: string[];
  /** Public keys the client signs its assertions with (private_key_jwt): held here… */
  jwks: ClientJwks | null;
  /** …or fetched from the client (never both). */
  jwksUri: string | null;
  /** RFC 9126 §6: authorization requests only by reference to one it pushed (/par). */
  requirePushedAuthorizationRequests: boolean;
  /** Every sign-in for this client needs a second factor or a passkey. */
  requireMfa: boolean;
  /** Origins whose pages may sign people in through FedCM (`scheme://host[:port]`); none: FedCM off. */
  fedcmOrigins: string[];
  /** RFC 7591 §2 `policy_uri`, `tos_uri`: the FedCM dialog links to them. */
  policyUri: string | null;
  tosUri: string | null;
  createdAt: number;
}

export interface Resource {
  id: string;
  name: string;
  /** The scopes this API defines (RFC 6749 §3.3), which machine clients are granted from. */
  scopes: string[];
  createdAt: number;
}

type Row = typeof clients.$inferSelect;
const toClient = (r: Row): Client => ({ ...r, type: r.type as ClientType, party: r.party as ClientParty });

export interface ClientRepository {
  create(c: Client): Promise<Client>;
  findById(id: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  /** Replaces a client's registration (used by demo seeding to keep URLs current). */
  update(c: Client): Promise<void>;
  /**
   * Removes a client; its codes, grants (with their refresh and access tokens) and consents go with
   * it (ON DELETE CASCADE). False when there was no such client.
   */
  delete(id: string): Promise<boolean>;
}

export interface ResourceRepository {
  create(r: Resource): Promise<Resource>;
  findById(id: string): Promise<Resource | undefined>;
  list(): Promise<Resource[]>;
}

export function clientRepository(db: Db): ClientRepository {
  const byId = lookupBy(db, clients, clients.id);
  return {
    async create(c) {
      return toClient(db.insert(clients).values(c).returning().get());
    },
    async findById(id) {
      const row = byId(id);
      return row && toClient(row);
    },
    async list() {
      return db.select().from(clients).orderBy(clients.createdAt).all().map(toClient);
    },
    async update(c) {
      db.update(clients).set(c).where(eq(clients.id, c.id)).run();
    },
    async delete(id) {
      return db.delete(clients).where(eq(clients.id, id)).run().changes === 1;
    },
  };
}

export function resourceRepository(db: Db): ResourceRepository {
  return {
    async create(r) {
      return db.insert(resources).values(r).returning().get();
    },
    async findById(id) {
      return db.select().from(resources).where(eq(resources.id, id)).get();
    },
    async list() {
      return db.select().from(resources).orderBy(resources.createdAt).all();
    },
  };
}
