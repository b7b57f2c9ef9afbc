import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from '../http/malformed-request-error.js';
import { HEADER_VALUE_LIMIT, requestLimits } from './request-limits.js';

function app() {
  const hono = new Hono();
  hono.use('*', requestLimits());
  hono.get('/', (c) => c.text('ok'));
  hono.onError((error, c) =>
    error instanceof MalformedRequestError
      ? c.json({ error: error.error, error_description: error.description }, error.status)
      : c.json({ error: 'server_error' }, 500),
  );
  return hono;
}

describe('requestLimits', () => {
  it('lets a well-formed request through', async () => {
    const response = await app().request('/?a=1&b=%C3%A9', { headers: { cookie: 'x'.repeat(HEADER_VALUE_LIMIT) } });
    expect(response.status).toBe(200);
  });

  it('refuses a header value over the limit', async () => {
    const response = await app().request('/', { headers: { cookie: 'x'.repeat(HEADER_VALUE_LIMIT + 1) } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'a request header is too large',
    });
  });

  it('refuses a malformed query string', async () => {
    const response = await app().request('/?a=%zz');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'the parameters are not well-formed percent-encoded UTF-8',
    });
  });
});
