/**
 * The response headers every Tessera server sets once for every response (OWASP HTTP Headers
 * Cheat Sheet, OWASP Clickjacking Defense). Pages get a Content-Security-Policy with a fresh nonce
 * per response (CSP Level 3 §6.7.2.3): only what the page shell wrote with that nonce applies, so
 * markup injected into a page can neither style nor script it. What a server's pages may load is
 * its own ({@link PagePolicy}); the rest is the same everywhere. Node-only (the CSPRNG pool): exported
 * from `@tessera/shared/node`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { randomBase64url } from '../crypto/random-pool.js';

/** What a server's pages may use besides what carries the response's nonce. */
export interface PagePolicy {
  /** `style-src` sources besides the nonce: `'self'` for a stylesheet served by URL. */
  styleSources?: readonly string[];
  /** `script-src` sources besides the nonce; without it, pages run no script at all (`default-src 'none'`). */
  scriptSources?: readonly string[];
  /** `connect-src`: where the page's script may send requests; without it, nowhere. */
  connectSources?: readonly string[];
  /**
   * `form-action`: where forms may post, and where the redirects that follow may go (CSP Level 3
   * §6.5.1); empty for a server with no form (`'none'`). Listed, never omitted: an injected
   * `<form action=…>` on a sign-in page would collect passwords.
   */
  formActions: readonly string[];
}

/** One response's page policy. The nonce is made when first asked for: JSON answers need none. */
class ResponsePolicy {
  #nonce: string | undefined;
  readonly formTargets = new Set<string>();
  get nonce(): string {
    // 16 bytes: 128 bits (CSP Level 3 §7.2 asks for at least 128), base64url — a base64 variant
    // the nonce-source grammar accepts (§2.3.1 base64-value).
    this.#nonce ??= randomBase64url(16);
    return this.#nonce;
  }
}

// The nonce belongs to the response, not to a view's data: the page shell takes it from the page
// being rendered, so no view can forget it, reuse another response's, or need it threaded through
// every signature. Each response's policy is found by its Hono context. An AsyncLocalStorage would
// find it from anywhere, but on Node 20 it runs a hook on every promise of every request, the JSON
// ones too: about a tenth of a token request's CPU.
const policies = new WeakMap<Context, ResponsePolicy>();
/** The policy of the page {@link renderPage} is rendering right now: rendering is synchronous. */
let rendering: ResponsePolicy | undefined;

function policyOf(c: Context, caller: string): ResponsePolicy {
  const policy = policies.get(c);
  if (policy === undefined) throw new TypeError(`${caller} needs a request that securityHeaders() handles`);
  return policy;
}

/**
 * Answers with the page `render` makes, rendered now, under this response's policy: what it reads
 * with {@link cspNonce} is the nonce of this response's CSP. `status` and `headers` as `c.html`'s.
 */
export function renderPage(
  c: Context,
  render: () => string,
  status?: ContentfulStatusCode,
  headers?: Record<string, string>,
): Response {
  const outer = rendering;
  rendering = policyOf(c, 'renderPage()');
  let page: string;
  try {
    page = render();
  } finally {
    rendering = outer;
  }
  return c.html(page, status, headers);
}

/** The CSP nonce of the response whose page is being rendered (128 random bits, base64url). */
export function cspNonce(): string {
  if (rendering === undefined) throw new TypeError('cspNonce() is only available while renderPage() renders a page');
  return rendering.nonce;
}

/**
 * Lets this response's forms end on `url`'s origin: a POST answered with a redirect to a client's
 * redirect URI. Browsers check `form-action` against every redirect that follows a form
 * submission (CSP Level 3 §6.5.1; Chrome enforces it), and compare only the origin once
 * redirected (§6.7.2.8), so the origin is the exact target.
 */
export function allowFormRedirectTo(c: Context, url: string): void {
  policyOf(c, 'allowFormRedirectTo()').formTargets.add(new URL(url).origin);
}

/** Whatever is not a page (JSON, JWTs, scripts, stylesheets) loads nothing and is never framed either. */
const NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'";

/**
 * What {@link securityHeaders} adds to a response that is not a page and chose its own cache
 * policy: for a server that answers some requests before its Hono app (the issuer's published
 * documents), so that those answers carry the same headers.
 */
export const NOT_A_PAGE_HEADERS = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': NOT_A_PAGE,
});

const sources = (list: readonly string[]) => list.map((source) => ` ${source}`).join('');

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** What the server's pages may load and where their forms may go. */
  page: PagePolicy;
}

/**
 * Hono middleware that sets, after the route has answered: on pages (text/html), a CSP with this
 * response's nonce (read with {@link cspNonce} while {@link renderPage} builds the page) and
 * `X-Frame-Options: DENY` for browsers without `frame-ancestors`; on everything else, a CSP that
 * loads and frames nothing; everywhere, `X-Content-Type-Options: nosniff`, `Referrer-Policy:
 * no-referrer` (pages carry interaction ids, redirects carry codes: RFC 9700 §4.2.4), and
 * `Cache-Control: no-store` wherever the route did not choose a cache policy itself, so a response
 * with a token, a code or a session is never cached by default (RFC 6749 §5.1, RFC 6750 §5.3).
 *
 * @example
 * ```ts
 * app.use('*', securityHeaders({ page: { styleSources: ["'self'"], formActions: ["'self'"] } }));
 * app.get('/', (c) => renderPage(c, () => `<link rel="stylesheet" href="/styles.css" nonce="${cspNonce()}">`));
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareHandler {
  const page = options?.page;
  if (page === undefined || !Array.isArray(page.formActions))
    throw new TypeError('page.formActions must list where forms may post');
  const { styleSources = [], scriptSources, connectSources, formActions } = page;
  // What does not depend on the response is written once, here.
  const scriptSrc = scriptSources && `script-src${sources(scriptSources)}`;
  const connectSrc = connectSources && `connect-src${sources(connectSources)}`;
  const styleSrc = `style-src${sources(styleSources)}`;
  const formAction = `form-action${sources(formActions)}`;

  const pagePolicy = (policy: ResponsePolicy): string => {
    const nonce = ` 'nonce-${policy.nonce}'`;
    const formTargets = formActions.length + policy.formTargets.size > 0 ? sources([...policy.formTargets]) : " 'none'";
    return [
      "default-src 'none'",
      ...(scriptSrc === undefined ? [] : [scriptSrc + nonce]),
      ...(connectSrc === undefined ? [] : [connectSrc]),
      styleSrc + nonce,
      "img-src 'self'",
      formAction + formTargets,
      "base-uri 'none'",
      // Pages can never be framed: clickjacking of a sign-in, consent or sign-out button.
      "frame-ancestors 'none'",
    ].join('; ');
  };

  return async function securityHeaders(c, next) {
    const policy = new ResponsePolicy();
    policies.set(c, policy);
    await next();
    // Set on the answer's own header fields, as Hono's cors and secureHeaders do: c.header() on an
    // answered context makes a new Response each time, turning a string body into a stream the
    // Node adapter must then pipe.
    const headers = c.res.headers;
    headers.set('X-Content-Type-Options', NOT_A_PAGE_HEADERS['x-content-type-options']);
    headers.set('Referrer-Policy', NOT_A_PAGE_HEADERS['referrer-policy']);
    if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
    if (headers.get('content-type')?.startsWith('text/html')) {
      headers.set('Content-Security-Policy', pagePolicy(policy));
      headers.set('X-Frame-Options', 'DENY');
    } else {
      headers.set('Content-Security-Policy', NOT_A_PAGE_HEADERS['content-security-policy']);
    }
  };
}
