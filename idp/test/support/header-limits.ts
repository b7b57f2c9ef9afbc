/** The header-size limits every endpoint of the issuer and of the apps keeps, as one set of checks. */
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
