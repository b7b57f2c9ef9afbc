import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../errors.js';
import { MalformedRequestError } from '../http/malformed-request-error.js';
import { HEADER_VALUE_LIMIT, requestLimits, type RequestLimitsOptions } from './request-limits.js';

function app(options: RequestLimitsOptions = { bodyBytes: 16 }) {
  const hono = new Hono();
  hono.use('*', requestLimits(options));
  hono.get('/', (c) => c.text('ok'));
  hono.post('/', async (c) => c.text(await c.req.text()));
  hono.onError((error, c) =>
    error instanceof OAuthError
      ? c.json(error.toJSON(), error.status as 400 | 413)
      : c.json({ error: 'server_error' }, 500),
  );
  return hono;
}

const chunked = (bytes: number) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes; i++) controller.enqueue(Uint8Array.of(0x61));
      controller.close();
    },
  });

describe('requestLimits', () => {
  it('lets a well-formed request through', async () => {
    const response = await app().request('/?a=1&b=%C3%A9', { headers: { cookie: 'x'.repeat(HEADER_VALUE_LIMIT) } });
    expect(response.status).toBe(200);
    const post = await app().request('/', { method: 'POST', body: 'a'.repeat(16) });
    expect(await post.text()).toBe('a'.repeat(16));
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

  it.each([
    ['announced by Content-Length', () => ({ body: 'a'.repeat(17) })],
    ['streamed without a length', () => ({ body: chunked(17), duplex: 'half' })],
  ])('refuses a body over the limit, %s, with 413 invalid_request', async (_, body) => {
    const response = await app().request('/', { method: 'POST', ...body() } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'the request body is too large',
    });
  });

  it('answers an oversized body with 413 even when a header is oversized too', async () => {
    const response = await app().request('/', {
      method: 'POST',
      body: 'a'.repeat(17),
      headers: { cookie: 'x'.repeat(HEADER_VALUE_LIMIT + 1) },
    });
    expect(response.status).toBe(413);
  });

  it('reads the query with the server’s own rules when it has them', async () => {
    const readQuery = (query: string) => {
      if (query.includes('x=')) throw new OAuthError('invalid_request', 'no x here');
    };
    const hono = app({ bodyBytes: 16, readQuery });
    expect((await hono.request('/?a=1')).status).toBe(200);
    expect(await (await hono.request('/?x=1')).json()).toEqual({
      error: 'invalid_request',
      error_description: 'no x here',
    });
  });

  it('refuses to be built without a body limit (a TypeError at start-up)', () => {
    expect(() => requestLimits({} as never)).toThrow(TypeError);
  });
});

describe('MalformedRequestError', () => {
  it('is an OAuth invalid_request, with its status', () => {
    const error = new MalformedRequestError('the request body is too large', 413);
    expect(error).toBeInstanceOf(OAuthError);
    expect([error.error, error.status, error.name]).toEqual(['invalid_request', 413, 'MalformedRequestError']);
    expect(error.toJSON()).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
  });
});
