/**
 * The documents the issuer publishes at fixed paths, the same for every requester (discovery, the
 * JWKS): what each route answers, and a node:http listener that answers plain GET and HEAD
 * requests for them before the Hono adapter. Relying parties fetch these most, and the adapter's
 * Web Request/Response round trip and the middlewares' async context cost many times the work of
 * the answer itself, which is already made: the body and ETag are computed once per key-ring load.
 * Both documents come from the key ring brought up to date with the store first, so every issuer
 * process on one database answers alike (keys/key-ring.ts, upToDate).
 * Whatever the listener does not answer (another method or path, a query string, a header the
 * request limits may refuse, a Host the adapter would judge) goes to the app unchanged.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HEADER_VALUE_LIMIT, NOT_A_PAGE_HEADERS } from '@tessera/shared/node';
import { ISSUER_PATHS, matchesIfNoneMatch } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { providerMetadataDocument } from '../protocol/discovery.js';

/** One published document as served now: its body and how it may be cached. */
export interface PublishedDocument {
  body: string;
  contentType: string;
  cacheControl: string;
  /** A strong validator (RFC 9110 §8.8.3), for documents that are revalidated often. */
  etag?: string;
}

/** Discovery (OIDC Discovery §4) and the JWKS (RFC 7517 §5) are open to any origin; ETag is readable. */
export const OPEN_TO_ANY_ORIGIN = { origin: '*', exposeHeaders: ['ETag'] } as const;

export async function discoveryDocument(ctx: IssuerContext): Promise<PublishedDocument> {
  await ctx.keys.upToDate();
  return {
    body: providerMetadataDocument(ctx.config.issuer, ctx.keys.algorithms),
    contentType: 'application/json',
    cacheControl: 'public, max-age=300',
  };
}

export async function jwksDocument(ctx: IssuerContext): Promise<PublishedDocument> {
  await ctx.keys.upToDate();
  const { body, etag } = ctx.keys.jwks;
  return {
    body,
    etag,
    contentType: 'application/jwk-set+json',
    cacheControl: `public, max-age=${ctx.config.jwksMaxAge}`,
  };
}

/** An answer made once per version of a document: its body's bytes and each status's header fields. */
interface Prepared {
  document: PublishedDocument;
  bytes: Buffer;
  ok: Record<string, string>;
  head: Record<string, string>;
  notModified: Record<string, string>;
}

function prepare(document: PublishedDocument): Prepared {
  const { body, contentType, cacheControl, etag } = document;
  const bytes = Buffer.from(body);
  const common = {
    'access-control-allow-origin': OPEN_TO_ANY_ORIGIN.origin,
    'access-control-expose-headers': OPEN_TO_ANY_ORIGIN.exposeHeaders.join(','),
    'cache-control': cacheControl,
    ...(etag === undefined ? {} : { etag }),
  };
  // HEAD: the app's answer carries no Content-Length, and neither does this one.
  const head = { ...common, 'content-type': contentType, ...NOT_A_PAGE_HEADERS };
  return {
    document,
    bytes,
    ok: { ...head, 'content-length': String(bytes.length) },
    head,
    notModified: { ...common, ...NOT_A_PAGE_HEADERS },
  };
}

const sameVersion = (a: PublishedDocument, b: PublishedDocument) =>
  a.body === b.body && a.etag === b.etag && a.cacheControl === b.cacheControl && a.contentType === b.contentType;

const DOCUMENTS = new Map<string, (ctx: IssuerContext) => Promise<PublishedDocument>>([
  [ISSUER_PATHS.discovery, discoveryDocument],
  [ISSUER_PATHS.jwks, jwksDocument],
]);

// The hosts @hono/node-server takes as they are (its reValidHost); any other it parses and may
// refuse with 400, so such a request goes to it.
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * Whether no header value can exceed the request limits' HEADER_VALUE_LIMIT, even with repeated
 * fields joined (", "): the limits, not this listener, answer a request they would refuse.
 */
function withinHeaderLimit(raw: string[]): boolean {
  let total = 0;
  for (let i = 1; i < raw.length; i += 2) total += raw[i]!.length + 2;
  return total <= HEADER_VALUE_LIMIT;
}

/**
 * Answers GET and HEAD of a published document's exact path with the headers the app's route and
 * middlewares set (CORS, the route's cache policy and validator, the securityHeaders of whatever
 * is not a page); a matching If-None-Match gets 304 (RFC 9110 §13.1.2). Everything else: `app`.
 */
export function servePublishedDocuments(ctx: IssuerContext, app: RequestListener): RequestListener {
  // The document is read on every request (the key ring may have reloaded); its answer is made again
  // only when it changed.
  const prepared = new Map<string, Prepared>();
  return function publishedDocuments(req: IncomingMessage, res: ServerResponse) {
    const path = req.url ?? '';
    const current = DOCUMENTS.get(path);
    if (
      current === undefined ||
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      !PLAIN_HOST.test(req.headers.host ?? '') ||
      !withinHeaderLimit(req.rawHeaders)
    ) {
      return app(req, res);
    }
    const started = performance.now();
    // Never rejects: the key ring keeps the documents it has when the store cannot be read.
    void current(ctx).then((document) => {
      let answer = prepared.get(path);
      if (answer === undefined || !sameVersion(answer.document, document)) {
        answer = prepare(document);
        prepared.set(path, answer);
      }
      if (document.etag !== undefined && matchesIfNoneMatch(req.headers['if-none-match'], document.etag)) {
        res.writeHead(304, answer.notModified).end();
      } else if (req.method === 'HEAD') {
        res.writeHead(200, answer.head).end();
      } else {
        res.writeHead(200, answer.ok).end(answer.bytes);
      }
      // The path is one of DOCUMENTS' keys: a route pattern as the app's would be.
      ctx.metrics.observeRequest(req.method ?? 'GET', path, res.statusCode, (performance.now() - started) / 1000);
    });
  };
}
