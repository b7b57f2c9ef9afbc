import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBodyServer, startServer, type TestServer } from '../../test/support/issuer.js';
import { createLoopbackFetch } from '../http/loopback-fetch.js';
import { TokenExchangeError } from './errors.js';
import { exchangeToken, type TokenExchangeOptions } from './token-exchange.js';

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

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const exchanged = {
  access_token: 'for-app-b',
  issued_token_type: ACCESS_TOKEN_TYPE,
  token_type: 'Bearer',
  expires_in: 120,
  scope: 'profile email',
};
const fetch = createLoopbackFetch();

function options(extra: Partial<TokenExchangeOptions> = {}): TokenExchangeOptions {
  received = [];
  answer = { status: 200, body: JSON.stringify(exchanged) };
  const port = new URL(server.url).port;
  return {
    tokenEndpoint: `http://idp.localhost:${port}/token`,
    clientId: 'app-a',
    clientSecret: 's3cret',
    subjectToken: 'for-app-a',
    resource: 'http://app-b.localhost:4002',
    fetch,
    ...extra,
  };
}

async function failure(promise: Promise<unknown>): Promise<TokenExchangeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenExchangeError);
  return error as TokenExchangeError;
}

describe('exchangeToken', () => {
  it('sends the RFC 8693 §2.1 parameters with client_secret_basic, and returns the response', async () => {
    await expect(exchangeToken(options())).resolves.toEqual(exchanged);
    const [request] = received;
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('app-a:s3cret').toString('base64')}`);
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(request!.body)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'for-app-a',
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      resource: 'http://app-b.localhost:4002',
    });
  });

  it('asks for fewer scopes when told to', async () => {
    await exchangeToken(options({ scope: 'profile' }));
    expect(received[0]?.body.get('scope')).toBe('profile');
  });

  it('surfaces the issuer’s refusal with its error code and status (invalid_target, RFC 8693 §2.2.2)', async () => {
    const request = options();
    answer = { status: 400, body: JSON.stringify({ error: 'invalid_target', error_description: 'not registered' }) };
    const error = await failure(exchangeToken(request));
    expect(error.code).toBe('ERR_TOKEN_EXCHANGE_REJECTED');
    expect([error.error, error.errorDescription, error.status]).toEqual(['invalid_target', 'not registered', 400]);
  });

  it('refuses an answer whose issued_token_type is missing or not an access token', async () => {
    for (const issued of [undefined, 'urn:ietf:params:oauth:token-type:id_token']) {
      const request = options();
      answer = { status: 200, body: JSON.stringify({ ...exchanged, issued_token_type: issued }) };
      expect((await failure(exchangeToken(request))).code).toBe('ERR_TOKEN_EXCHANGE_RESPONSE');
    }
  });

  it('refuses an answer that is not a Bearer token response', async () => {
    for (const body of ['<html>', JSON.stringify({ ...exchanged, token_type: 'N_A' }), JSON.stringify([])]) {
      const request = options();
      answer = { status: 200, body };
      expect((await failure(exchangeToken(request))).code).toBe('ERR_TOKEN_EXCHANGE_RESPONSE');
    }
  });

  it('fails with ERR_TOKEN_EXCHANGE_RESPONSE on an HTTP error without an OAuth error', async () => {
    const request = options();
    answer = { status: 502, body: '' };
    const error = await failure(exchangeToken(request));
    expect([error.code, error.status]).toEqual(['ERR_TOKEN_EXCHANGE_RESPONSE', 502]);
  });

  it('fails with ERR_TOKEN_EXCHANGE_RESPONSE when the token endpoint is unreachable', async () => {
    const unreachable = await startServer(() => undefined);
    const url = `${unreachable.url}/token`;
    await unreachable.close();
    expect((await failure(exchangeToken(options({ tokenEndpoint: url })))).code).toBe('ERR_TOKEN_EXCHANGE_RESPONSE');
  });

  it('refuses a call without a secret, or for a resource that is no absolute URI, sending nothing', async () => {
    await expect(exchangeToken(options({ clientSecret: '' }))).rejects.toThrow(TypeError);
    await expect(exchangeToken(options({ resource: 'app-b' }))).rejects.toThrow(TypeError);
    await expect(exchangeToken(options({ resource: 'http://app-b.localhost/#x' }))).rejects.toThrow(TypeError);
    expect(received).toEqual([]);
  });
});
