import { describe, expect, it } from 'vitest';
import { computeCodeChallenge, generateCodeVerifier } from './pkce.js';

describe('PKCE', () => {
  it('computes the S256 challenge of the RFC 7636 Appendix B test vector', async () => {
    await expect(computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('generates 43-character base64url verifiers, different every time', () => {
    const verifiers = new Set(Array.from({ length: 100 }, generateCodeVerifier));
    expect(verifiers.size).toBe(100);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('throws a TypeError for a verifier shorter than 43 characters (RFC 7636 §4.1)', async () => {
    await expect(computeCodeChallenge('too-short')).rejects.toThrow(TypeError);
  });

  it('throws a TypeError for a verifier with characters outside unreserved', async () => {
    await expect(computeCodeChallenge(`${'a'.repeat(43)}+`)).rejects.toThrow(TypeError);
  });
});
