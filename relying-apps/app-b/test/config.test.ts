import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { configRefusal } from '../../../idp/test/support/relying-party.js';

const refusal = (env: Record<string, string>) => configRefusal(loadConfig, ConfigError, env);

describe('loadConfig', () => {
  it('has the demo defaults', () => {
    expect(loadConfig({})).toEqual({
      appUrl: 'http://app-b.localhost:4002',
      host: '127.0.0.1',
      port: 4002,
      issuer: 'http://idp.localhost:4000',
      clientId: 'app-b',
      revocationWindowSec: 900,
      checkStatusList: true,
      clockToleranceSec: 60,
      database: './data/app-b.db',
    });
  });

  it('reads where app B keeps its revoked sessions from APP_B_DATABASE: a file, or a PostgreSQL URL', () => {
    expect(loadConfig({ APP_B_DATABASE: '/var/lib/app-b/state.db' }).database).toBe('/var/lib/app-b/state.db');
    const url = 'postgres://app_b@db.internal:5432/app_b';
    expect(loadConfig({ APP_B_DATABASE: url }).database).toBe(url);
  });

  it('reads APP_B_CLOCK_TOLERANCE_SEC from 0 (strict) to 300 s, and names it on a bad value', () => {
    expect(['0', '5', '300', '5m'].map((v) => loadConfig({ APP_B_CLOCK_TOLERANCE_SEC: v }).clockToleranceSec)).toEqual([
      0, 5, 300, 300,
    ]);
    for (const APP_B_CLOCK_TOLERANCE_SEC of ['301', '-1', 'soon', '1.5']) {
      expect(refusal({ APP_B_CLOCK_TOLERANCE_SEC }).variable).toBe('APP_B_CLOCK_TOLERANCE_SEC');
    }
  });

  it('turns the status-list check off with APP_B_STATUS_LIST=off, and names the variable on a bad value', () => {
    expect(loadConfig({ APP_B_STATUS_LIST: 'off' }).checkStatusList).toBe(false);
    expect(() => loadConfig({ APP_B_STATUS_LIST: 'maybe' })).toThrow(/^APP_B_STATUS_LIST: must be on or off/);
  });

  it('spells APP_B_STATUS_LIST as every Tessera switch: true/false, 1/0, on/off, yes/no, in any case', () => {
    expect(
      ['no', '0', 'FALSE', 'Off'].map((value) => loadConfig({ APP_B_STATUS_LIST: value }).checkStatusList),
    ).toEqual([false, false, false, false]);
    expect(['yes', '1', 'TRUE', 'On'].map((value) => loadConfig({ APP_B_STATUS_LIST: value }).checkStatusList)).toEqual(
      [true, true, true, true],
    );
  });

  it('takes the port from APP_B_URL, and APP_B_PORT over it', () => {
    expect(loadConfig({ APP_B_URL: 'https://app-b.example.com' }).port).toBe(443);
    expect(loadConfig({ APP_B_URL: 'https://app-b.example.com', APP_B_PORT: '8080' }).port).toBe(8080);
  });

  it('reads APP_B_CLIENT_ID and APP_B_REVOCATION_WINDOW', () => {
    const config = loadConfig({ APP_B_CLIENT_ID: 'spa', APP_B_REVOCATION_WINDOW: '1h' });
    expect([config.clientId, config.revocationWindowSec]).toEqual(['spa', 3600]);
  });

  it('names the variable at fault', () => {
    expect(refusal({ APP_B_URL: 'http://app-b.example.com' }).variable).toBe('APP_B_URL');
    expect(refusal({ APP_B_URL: 'http://app-b.localhost:4002/spa' }).variable).toBe('APP_B_URL');
    expect(refusal({ TESSERA_ISSUER: 'ftp://idp.localhost' }).variable).toBe('TESSERA_ISSUER');
    expect(refusal({ APP_B_PORT: 'http' }).variable).toBe('APP_B_PORT');
    expect(refusal({ APP_B_CLIENT_ID: 'a/b' }).variable).toBe('APP_B_CLIENT_ID');
    expect(refusal({ APP_B_REVOCATION_WINDOW: '5' }).variable).toBe('APP_B_REVOCATION_WINDOW');
  });
});
