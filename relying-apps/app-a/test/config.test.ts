import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { configRefusal } from '../../../idp/test/support/relying-party.js';

const base = { APP_A_CLIENT_SECRET: 's3cret' };

const refusal = (env: Record<string, string>) => configRefusal(loadConfig, ConfigError, env);

describe('loadConfig', () => {
  it('has the demo defaults', () => {
    expect(loadConfig(base)).toEqual({
      appUrl: 'http://app-a.localhost:4001',
      host: '127.0.0.1',
      port: 4001,
      issuer: 'http://idp.localhost:4000',
      clientId: 'app-a',
      clientSecret: 's3cret',
      appBUrl: 'http://app-b.localhost:4002',
      clockToleranceSec: 60,
      database: './data/app-a.db',
    });
  });

  it('reads where app A keeps its state from APP_A_DATABASE: a file, or a PostgreSQL URL', () => {
    expect(loadConfig({ ...base, APP_A_DATABASE: '/var/lib/app-a/state.db' }).database).toBe('/var/lib/app-a/state.db');
    const url = 'postgres://app_a@db.internal:5432/app_a';
    expect(loadConfig({ ...base, APP_A_DATABASE: url }).database).toBe(url);
  });

  it('reads APP_A_CLOCK_TOLERANCE_SEC from 0 (strict) to 300 s, and names it on a bad value', () => {
    expect(
      ['0', '5', '300', '5m'].map((v) => loadConfig({ ...base, APP_A_CLOCK_TOLERANCE_SEC: v }).clockToleranceSec),
    ).toEqual([0, 5, 300, 300]);
    for (const APP_A_CLOCK_TOLERANCE_SEC of ['301', '-1', 'soon', '1.5']) {
      expect(refusal({ ...base, APP_A_CLOCK_TOLERANCE_SEC }).variable).toBe('APP_A_CLOCK_TOLERANCE_SEC');
    }
  });

  it('reads app B’s origin from APP_B_URL, as app B does, and names it when it is not an origin', () => {
    expect(loadConfig({ ...base, APP_B_URL: 'https://app-b.example.com/' }).appBUrl).toBe('https://app-b.example.com');
    for (const APP_B_URL of ['not a url', 'http://app-b.example.com', 'http://app-b.localhost:4002/api']) {
      expect(refusal({ ...base, APP_B_URL }).variable).toBe('APP_B_URL');
    }
  });

  it('takes the port from APP_A_URL, and APP_A_PORT over it', () => {
    expect(loadConfig({ ...base, APP_A_URL: 'https://app-a.example.com' }).port).toBe(443);
    expect(loadConfig({ ...base, APP_A_URL: 'https://app-a.example.com', APP_A_PORT: '8080' }).port).toBe(8080);
  });

  it('drops a trailing slash from the URLs', () => {
    const config = loadConfig({
      ...base,
      APP_A_URL: 'http://app-a.localhost:4001/',
      TESSERA_ISSUER: 'http://idp.localhost:4000/',
    });
    expect([config.appUrl, config.issuer]).toEqual(['http://app-a.localhost:4001', 'http://idp.localhost:4000']);
  });

  it('requires APP_A_CLIENT_SECRET', () => {
    expect(refusal({}).variable).toBe('APP_A_CLIENT_SECRET');
  });

  it('names APP_A_URL when it is not a URL, not https off loopback, or has a path', () => {
    for (const APP_A_URL of [
      'not a url',
      'http://app-a.example.com',
      'http://app-a.localhost:4001/app',
      'http://app-a.localhost:4001/?x=1',
    ]) {
      expect(refusal({ ...base, APP_A_URL }).variable).toBe('APP_A_URL');
    }
  });

  it('names TESSERA_ISSUER when it is not usable', () => {
    expect(refusal({ ...base, TESSERA_ISSUER: 'http://idp.example.com' }).variable).toBe('TESSERA_ISSUER');
    expect(refusal({ ...base, TESSERA_ISSUER: 'http://idp.localhost:4000#x' }).variable).toBe('TESSERA_ISSUER');
  });

  it('names APP_A_PORT and APP_A_CLIENT_ID when malformed', () => {
    expect(refusal({ ...base, APP_A_PORT: '70000' }).variable).toBe('APP_A_PORT');
    expect(refusal({ ...base, APP_A_CLIENT_ID: 'app a' }).variable).toBe('APP_A_CLIENT_ID');
  });
});
