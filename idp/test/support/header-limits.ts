/** The input limits every endpoint of the issuer and of the apps keeps, as shared checks and cases. */
import { expect, it } from 'vitest';

/**
 * Registers the checks for one endpoint: a 9 KiB `header` is the app's own 400 invalid_request, and
 * a header block over 16 KiB is refused by Node before the app sees it.
 * `send` makes a small valid request to the endpoint with the given extra headers.
 */
export function itRefusesOversizedHeaders(
  send: (headers: Record<string, string>) => Promise<Response>,
  errorOf: (res: Response) => Promise<string | undefined>,
  header: { name: 'cookie' | 'authorization'; value: (filler: string) => string } = {
    name: 'cookie',
    value: (filler) => `big=${filler}`,
  },
): void {
  it(`answers a ${header.name} header of 9 KiB with 400 invalid_request`, async () => {
    const res = await send({ [header.name]: header.value('x'.repeat(9 * 1024)) });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('invalid_request');
  });

  it('lets Node refuse a header block over 16 KiB with 431, never a 500', async () => {
    // Node answers 431 (RFC 6585 §5) and closes the connection before the app sees the request.
    expect((await send({ cookie: `big=${'x'.repeat(20 * 1024)}` })).status).toBe(431);
  });
}

/**
 * The malformed inputs both apps answer with 400 invalid_request at every endpoint, carried in
 * `field`; raw bytes that are not UTF-8 go in the body of a POST, in the query (as `queryField`) of a GET.
 */
export function malformedAppInputs(
  field: string,
  queryField = field,
): [string, (e: { method: string }) => string | Uint8Array<ArrayBuffer>][] {
  return [
    ['a parameter value over 4096 characters', () => `${field}=${'a'.repeat(5000)}`],
    ['65 parameters', () => Array.from({ length: 65 }, (_, i) => `p${i}=v`).join('&')],
    ['a `%` without two hex digits', () => `${field}=%zz`],
    ['percent-encoded bytes that are not UTF-8', () => `${field}=%ff`],
    [
      'raw bytes that are not UTF-8',
      (e) => (e.method === 'GET' ? `${queryField}=%C3%28` : Uint8Array.from([...Buffer.from(`${field}=`), 0xc3, 0x28])),
    ],
  ];
}
