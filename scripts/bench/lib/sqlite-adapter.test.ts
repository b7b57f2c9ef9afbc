/** The durable oidc-provider adapter of the comparison: what oidc-provider asks of an adapter, kept on disk. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteAdapter } from './sqlite-adapter.js';

describe('sqliteAdapter', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-adapter-'));
    file = join(dir, 'oidc.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what it is given across a reopening of the file, one model apart from another', async () => {
    const first = sqliteAdapter(file);
    await new first('Session').upsert('s1', { uid: 'u1', accountId: 'a' }, 60);
    await new first('AuthorizationCode').upsert('s1', { grantId: 'g1', scope: 'openid' }, 60);
    first.close();

    const again = sqliteAdapter(file);
    try {
      expect(await new again('Session').find('s1')).toEqual({ uid: 'u1', accountId: 'a' });
      expect(await new again('Session').findByUid('u1')).toEqual({ uid: 'u1', accountId: 'a' });
      expect(await new again('AuthorizationCode').find('s1')).toEqual({ grantId: 'g1', scope: 'openid' });
      expect(await new again('AccessToken').find('s1')).toBeUndefined();
    } finally {
      again.close();
    }
  });

  it('marks a consumed entry, replaces one upserted again, and forgets destroyed and expired ones', async () => {
    const Adapter = sqliteAdapter(file);
    try {
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('c1', { grantId: 'g1' }, 60);
      await codes.consume('c1');
      expect((await codes.find('c1'))?.consumed).toBeTypeOf('number');

      const sessions = new Adapter('Session');
      await sessions.upsert('s1', { uid: 'u1', n: 1 }, 60);
      await sessions.upsert('s1', { uid: 'u2', n: 2 }, 60);
      expect(await sessions.find('s1')).toEqual({ uid: 'u2', n: 2 });
      expect(await sessions.findByUid('u1')).toBeUndefined();
      await sessions.destroy('s1');
      expect(await sessions.find('s1')).toBeUndefined();

      await sessions.upsert('gone', { uid: 'u3' }, 0);
      expect(await sessions.find('gone')).toBeUndefined();
      expect(await sessions.findByUid('u3')).toBeUndefined();

      const devices = new Adapter('DeviceCode');
      await devices.upsert('d1', { userCode: 'ABCD-EFGH' }, 60);
      expect(await devices.findByUserCode('ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH' });
    } finally {
      Adapter.close();
    }
  });

  it('revokes everything of a grant, in every model, and nothing of another grant', async () => {
    const Adapter = sqliteAdapter(file);
    try {
      await new Adapter('RefreshToken').upsert('r1', { grantId: 'g1' }, 60);
      await new Adapter('AccessToken').upsert('a1', { grantId: 'g1' }, 60);
      await new Adapter('RefreshToken').upsert('r2', { grantId: 'g2' }, 60);
      await new Adapter('Grant').revokeByGrantId('g1');
      expect(await new Adapter('RefreshToken').find('r1')).toBeUndefined();
      expect(await new Adapter('AccessToken').find('a1')).toBeUndefined();
      expect(await new Adapter('RefreshToken').find('r2')).toEqual({ grantId: 'g2' });
    } finally {
      Adapter.close();
    }
  });
});
