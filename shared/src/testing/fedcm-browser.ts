/**
 * The browser's part of a FedCM sign-in, for tests of a relying party's own logic without a
 * browser: what Chromium sends to the issuer's endpoints (W3C FedCM §3.3 "fetch an identity
 * assertion"), found the way Chromium finds them — discovery's `fedcm_config_uri`, then the config
 * file — and sent with the person's issuer cookies from a cookie jar, `Sec-Fetch-Dest: webidentity`
 * and the relying party's Origin. The end-to-end tests drive the real browser instead.
 */
import type { CookieJarClient } from './cookie-jar.js';

export interface FedCmBrowserRequest {
  /** The issuer identifier (its discovery document names the FedCM config). */
  issuer: string;
  /** The relying party's origin: the page that called `navigator.credentials.get`. */
  origin: string;
  clientId: string;
  /** The account the person picked in the dialog: their `sub`. */
  accountId: string;
  /** The `params` the page passed (JSON-encoded into one form field, as Chromium does). */
  params: unknown;
  /** Whether the dialog showed the privacy policy and terms (a first sign-up); default false. */
  disclosureTextShown?: boolean;
}

/** The FedCM config file of `issuer`, through its discovery document. */
export async function fedcmConfig(issuer: string): Promise<Record<string, unknown>> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
  const configUri = discovery.fedcm_config_uri;
  if (typeof configUri !== 'string') throw new Error('the issuer names no fedcm_config_uri');
  const res = await fetch(configUri, { headers: { 'sec-fetch-dest': 'webidentity' } });
  if (!res.ok) throw new Error(`the FedCM config answered HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** POSTs to the issuer's `id_assertion_endpoint` as Chromium does; the raw answer. */
export async function postFedCmAssertion(jar: CookieJarClient, request: FedCmBrowserRequest): Promise<Response> {
  const endpoint = (await fedcmConfig(request.issuer)).id_assertion_endpoint;
  if (typeof endpoint !== 'string') throw new Error('the FedCM config names no id_assertion_endpoint');
  return jar.fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-dest': 'webidentity',
      origin: request.origin,
    },
    body: new URLSearchParams({
      client_id: request.clientId,
      account_id: request.accountId,
      params: JSON.stringify(request.params),
      disclosure_text_shown: String(request.disclosureTextShown ?? false),
      is_auto_selected: 'false',
    }),
  });
}

/** The token (an authorization code) the issuer's assertion endpoint answers with; throws on a refusal. */
export async function fedcmToken(jar: CookieJarClient, request: FedCmBrowserRequest): Promise<string> {
  const res = await postFedCmAssertion(jar, request);
  const body = (await res.json()) as { token?: unknown };
  if (res.status !== 200 || typeof body.token !== 'string') {
    throw new Error(`the assertion endpoint refused: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.token;
}
