import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLocalKeySet } from './local-key-set.js';
import { withNodeSignatures } from './node-signatures.js';

describe('withNodeSignatures', () => {
  it.each(['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const)(
    'checks %s signatures made by jose with node:crypto, and refuses a tampered one',
    async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const keySet = withNodeSignatures(
        await createLocalKeySet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg }] }),
      );
      const key = await keySet.getKey('k');
      expect(typeof key.verifySignature).toBe('function');
      const jws = await new CompactSign(new TextEncoder().encode('{"sub":"a"}'))
        .setProtectedHeader({ alg, kid: 'k' })
        .sign(privateKey);
      const [h, p, s] = jws.split('.');
      const data = new TextEncoder().encode(`${h}.${p}`);
      expect(key.verifySignature!(data, Buffer.from(s!, 'base64url'))).toBe(true);
      expect(key.verifySignature!(new TextEncoder().encode(`${h}.${p}x`), Buffer.from(s!, 'base64url'))).toBe(false);
      // The converted key is made once per key, not per verification.
      expect(await keySet.getKey('k')).toBe(key);
    },
  );
});

describe('withNodeSignatures keyInHand', () => {
  it('hands out the same converted key as getKey, and nothing the wrapped set does not have in hand', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const keySet = withNodeSignatures(
      await createLocalKeySet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] }),
    );
    const inHand = keySet.keyInHand?.('k');
    expect(inHand?.verifySignature).toBeTypeOf('function');
    expect(await keySet.getKey('k')).toBe(inHand);
    expect(keySet.keyInHand?.('other')).toBeUndefined();
  });
});
