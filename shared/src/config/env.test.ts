import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envAppOrigin,
  envBase64urlBytes,
  envBoolean,
  envClientId,
  envDuration,
  envIssuerIdentifier,
  envOneOf,
  envPort,
  envString,
  envWebUrl,
} from './env.js';

function refusal(read: () => unknown): ConfigError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('ConfigError', () => {
  it('names the variable in its message and in `variable`', () => {
    const error = new ConfigError('APP_PORT', 'not a port number');
    expect([error.name, error.variable, error.message]).toEqual([
      'ConfigError',
      'APP_PORT',
      'APP_PORT: not a port number',
    ]);
  });
});

describe('envWebUrl', () => {
  it('takes the fallback when the variable is unset or empty', () => {
    expect(envWebUrl({}, 'U', 'https://a.example').href).toBe('https://a.example/');
    expect(envWebUrl({ U: '' }, 'U', 'https://a.example').href).toBe('https://a.example/');
  });

  it('allows plain http only on a loopback host (RFC 8252 §7.3)', () => {
    expect(envWebUrl({ U: 'http://app.localhost:4001' }, 'U', 'https://a.example').port).toBe('4001');
    expect(envWebUrl({ U: 'http://127.0.0.1' }, 'U', 'https://a.example').hostname).toBe('127.0.0.1');
    expect(refusal(() => envWebUrl({ U: 'http://a.example' }, 'U', 'https://a.example')).message).toBe(
      'U: must use https (http is allowed only on a loopback host)',
    );
  });

  it('refuses what is not a URL, and a query or fragment', () => {
    expect(refusal(() => envWebUrl({ U: 'a.example' }, 'U', 'https://a.example')).message).toBe(
      'U: not a URL: "a.example"',
    );
    expect(refusal(() => envWebUrl({ U: 'https://a.example/?x' }, 'U', 'https://a.example')).message).toBe(
      'U: must not have a query or fragment',
    );
    expect(refusal(() => envWebUrl({ U: 'https://a.example/#' }, 'U', 'https://a.example')).message).toBe(
      'U: must not have a query or fragment',
    );
  });
});

describe('envAppOrigin', () => {
  it('returns the origin, a trailing slash allowed', () => {
    expect(envAppOrigin({ O: 'https://app.example/' }, 'O', 'https://x.example').origin).toBe('https://app.example');
  });

  it.each(['https://App.example', 'https://app.example/path', 'https://app.example:443'])(
    'refuses %s: not in canonical form',
    (value) => {
      expect(refusal(() => envAppOrigin({ O: value }, 'O', 'https://x.example')).message).toBe(
        'O: must be an origin such as https://x.example (lower case, no path, no default port), ' +
          `got ${JSON.stringify(value)}`,
      );
    },
  );
});

describe('envIssuerIdentifier', () => {
  it('drops trailing slashes and keeps a path', () => {
    expect(envIssuerIdentifier({ I: 'https://idp.example/tenant//' }, 'I', 'https://x.example')).toBe(
      'https://idp.example/tenant',
    );
    expect(envIssuerIdentifier({}, 'I', 'http://idp.localhost:4000')).toBe('http://idp.localhost:4000');
  });

  it('refuses an issuer that is not a web URL', () => {
    expect(refusal(() => envIssuerIdentifier({ I: 'ftp://idp.localhost' }, 'I', 'https://x.example')).variable).toBe(
      'I',
    );
  });
});

describe('envPort', () => {
  it("defaults to the URL's port, or its scheme's", () => {
    expect(envPort({}, 'P', new URL('http://a.localhost:4001'))).toBe(4001);
    expect(envPort({}, 'P', new URL('https://a.example'))).toBe(443);
    expect(envPort({ P: '' }, 'P', new URL('http://a.localhost'))).toBe(80);
  });

  it.each(['http', '65536', '-1', '123456'])('refuses %s', (value) => {
    expect(refusal(() => envPort({ P: value }, 'P', new URL('https://a.example'))).message).toBe(
      `P: not a port number: ${JSON.stringify(value)}`,
    );
  });
});

describe('envClientId', () => {
  it('accepts unreserved characters and refuses others', () => {
    expect(envClientId({ C: 'app-a.v2_~' }, 'C', 'x')).toBe('app-a.v2_~');
    expect(envClientId({}, 'C', 'app-b')).toBe('app-b');
    const message = refusal(() => envClientId({ C: 'a/b' }, 'C', 'x')).message;
    expect(message).toBe('C: must be 1–64 letters, digits or ._~-');
    expect(refusal(() => envClientId({ C: 'a'.repeat(65) }, 'C', 'x')).variable).toBe('C');
  });
});

describe('envDuration', () => {
  it('reads seconds and s/m/h/d units', () => {
    expect(['900', '45s', '15m', '1h', '1d'].map((value) => envDuration({ D: value }, 'D', 0, 1, 86_400))).toEqual([
      900, 45, 900, 3600, 86_400,
    ]);
    expect(envDuration({}, 'D', 900, 30, 86_400)).toBe(900);
  });

  it('refuses another notation, and a value out of range', () => {
    expect(refusal(() => envDuration({ D: '1w' }, 'D', 900, 30, 86_400)).message).toBe(
      'D: expected a duration such as 900, 15m or 1h, got "1w"',
    );
    expect(refusal(() => envDuration({ D: '5' }, 'D', 900, 30, 86_400)).message).toBe(
      'D: must be between 30 s and 86400 s, got 5 s',
    );
  });
});

describe('envBoolean', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['on', true],
    ['yes', true],
    ['TRUE', true],
    ['On', true],
    ['YES', true],
    ['false', false],
    ['0', false],
    ['off', false],
    ['no', false],
    ['False', false],
    ['OFF', false],
    ['No', false],
  ])('reads %s as %s', (value, expected) => {
    expect(envBoolean({ S: value }, 'S', !expected)).toBe(expected);
  });

  it('takes the fallback when unset or empty', () => {
    expect(envBoolean({}, 'S', true)).toBe(true);
    expect(envBoolean({ S: '' }, 'S', false)).toBe(false);
  });

  it.each(['maybe', 'enabled', '2', ' on', 'toString', 'constructor'])('refuses %s, naming the variable', (value) => {
    expect(refusal(() => envBoolean({ S: value }, 'S', true)).message).toBe(
      `S: must be on or off (true/false, 1/0, on/off, yes/no), got ${JSON.stringify(value)}`,
    );
  });
});

describe('envPort with a number as fallback', () => {
  it('takes the number when unset, the variable when set', () => {
    expect(envPort({}, 'P', 4000)).toBe(4000);
    expect(envPort({ P: '8080' }, 'P', 4000)).toBe(8080);
    expect(refusal(() => envPort({ P: '80.5' }, 'P', 4000)).variable).toBe('P');
  });
});

describe('envString', () => {
  it('takes the value, or the fallback when unset or empty', () => {
    expect([envString({ T: 'db.sqlite' }, 'T', 'x'), envString({ T: '' }, 'T', 'x'), envString({}, 'T', 'x')]).toEqual([
      'db.sqlite',
      'x',
      'x',
    ]);
  });
});

describe('envOneOf', () => {
  const WORDS = ['ES256', 'EdDSA'] as const;

  it('takes one of the words, spelled exactly, or the fallback', () => {
    expect(envOneOf({ W: 'EdDSA' }, 'W', WORDS, 'ES256')).toBe('EdDSA');
    expect(envOneOf({}, 'W', WORDS, 'ES256')).toBe('ES256');
  });

  it('refuses another word, naming the allowed ones', () => {
    expect(refusal(() => envOneOf({ W: 'eddsa' }, 'W', WORDS, 'ES256')).message).toBe(
      'W: must be one of ES256, EdDSA, got "eddsa"',
    );
  });
});

describe('envBase64urlBytes', () => {
  const KEY = new Uint8Array(32).map((_, i) => i * 7);
  const ENCODED = btoa(String.fromCharCode(...KEY))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

  it('decodes exactly `length` bytes of base64url, or gives undefined when unset', () => {
    expect(envBase64urlBytes({ K: ENCODED }, 'K', 32)).toEqual(KEY);
    expect(envBase64urlBytes({ K: '' }, 'K', 32)).toBeUndefined();
  });

  it.each([
    ['too short', ENCODED.slice(1)],
    ['too long', `${ENCODED}A`],
    ['padded', `${ENCODED}=`],
    ['base64, not base64url', `${ENCODED.slice(0, 41)}+/`],
  ])('refuses a key %s', (_, value) => {
    expect(refusal(() => envBase64urlBytes({ K: value }, 'K', 32)).message).toBe(
      'K: must be 32 bytes encoded as base64url (43 characters)',
    );
  });
});
