import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBodyServer, startServer, type TestServer } from '../../test/support/issuer.js';
import { createLoopbackFetch } from '../http/loopback-fetch.js';
import { exchangeCode, type CodeExchangeOptions } from './code-exchange.js';
import { CodeExchangeError } from './errors.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: URLSearchParams;
}

let server: TestServer;
let received: Received[] = [];
let answer: { status: number; body: string } = { status: 200, body: '' };

beforeAll(async () => {
  server = await startBodyServer((req, res, body) => {
    received.push({ headers: req.headers, body: new URLSearchParams(body) });
    res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(answer.body);
  });
});
afterAll(() => server.close());

const tokens = { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: 'h.p.s', scope: 'openid' };
const fetch = createLoopbackFetch();

function options(extra: Partial<CodeExchangeOptions> = {}): CodeExchangeOptions {
  received = [];
  answer = { status: 200, body: JSON.stringify(tokens) };
  // Reaches the test server through a *.localhost name, as the demo's apps reach the issuer.
  const port = new URL(server.url).port;
  return {
    tokenEndpoint: `http://idp.localhost:${port}/token`,
    clientId: 'app-a',
    code: 'the-code',
    codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    redirectUri: 'http://app-a.localhost:4001/callback',
    fetch,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<CodeExchangeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CodeExchangeError);
  return error as CodeExchangeError;
}

describe('exchangeCode', () => {
  it('sends a public client’s client_id, code, redirect_uri and code_verifier in the body', async () => {
    await expect(exchangeCode(options({ resource: 'http://api.localhost/' }))).resolves.toEqual(tokens);
    const [request] = received;
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(request!.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'http://app-a.localhost:4001/callback',
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      resource: 'http://api.localhost/',
      client_id: 'app-a',
    });
  });

  it('sends no redirect_uri for a code that came without one (a FedCM assertion, RFC 6749 §4.1.3)', async () => {
    const { redirectUri: _, ...withoutRedirect } = options();
    await expect(exchangeCode(withoutRedirect)).resolves.toEqual(tokens);
    expect(Object.fromEntries(received[0]!.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      client_id: 'app-a',
    });
  });

  it('refuses a redirectUri that is given but not an absolute URI', async () => {
    await expect(exchangeCode(options({ redirectUri: '/callback' }))).rejects.toThrow(TypeError);
    expect(received).toEqual([]);
  });

  it('authenticates with client_secret_basic, form-encoding id and secret first (RFC 6749 §2.3.1)', async () => {
    await exchangeCode(options({ clientId: 'app a', clientSecret: 'p@ss:w/rd+=é' }));
    const [request] = received;
    const expected = Buffer.from('app+a:p%40ss%3Aw%2Frd%2B%3D%C3%A9').toString('base64');
    expect(request?.headers.authorization).toBe(`Basic ${expected}`);
    expect(request?.body.has('client_id')).toBe(false);
  });

  it('surfaces an OAuth error response with its error code and status', async () => {
    const request = options();
    answer = { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'code expired' }) };
    const error = await failure(exchangeCode(request));
    expect(error.code).toBe('ERR_CODE_EXCHANGE_REJECTED');
    expect([error.error, error.errorDescription, error.status]).toEqual(['invalid_grant', 'code expired', 400]);
  });

  it('rejects a response that is not JSON', async () => {
    const request = options();
    answer = { status: 200, body: '<html>' };
    expect((await failure(exchangeCode(request))).code).toBe('ERR_CODE_EXCHANGE_RESPONSE');
  });

  it('rejects a token type other than Bearer', async () => {
    const request = options();
    answer = { status: 200, body: JSON.stringify({ ...tokens, token_type: 'DPoP' }) };
    expect((await failure(exchangeCode(request))).code).toBe('ERR_CODE_EXCHANGE_RESPONSE');
  });

  it('fails with ERR_CODE_EXCHANGE_RESPONSE when the token endpoint is unreachable', async () => {
    const unreachable = await startServer(() => undefined);
    const url = `${unreachable.url}/token`;
    await unreachable.close();
    expect((await failure(exchangeCode(options({ tokenEndpoint: url })))).code).toBe('ERR_CODE_EXCHANGE_RESPONSE');
  });
});
