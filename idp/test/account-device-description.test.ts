/** The device names on the account page, from real User-Agent headers. */
import { describe, expect, it } from 'vitest';
import { describeDevice } from '../src/protocol/device-description.js';

describe('describeDevice', () => {
  it.each([
    [
      'Chrome on Linux',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      'Chrome 156 on Linux',
    ],
    [
      'Chrome on Android (reduced UA)',
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
      'Chrome 130 on Android',
    ],
    [
      'Safari on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
        'Version/17.4.1 Mobile/15E148 Safari/604.1',
      'Safari on iPhone (iOS 17)',
    ],
    [
      'Safari on macOS',
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 ' +
        'Safari/605.1.15',
      'Safari 17 on macOS',
    ],
    [
      'Firefox on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0',
      'Firefox 130 on Windows',
    ],
    [
      'Edge on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 ' +
        'Safari/537.36 Edg/129.0.2792.79',
      'Edge 129 on Windows',
    ],
    ['curl', 'curl/8.5.0', 'Unknown browser'],
    ['an empty header', '', 'Unknown browser'],
    [
      'Chrome on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
        'CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
      'Chrome 124 on iPhone (iOS 17)',
    ],
    [
      'Firefox on iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ' +
        'FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
      'Firefox 125 on iPhone (iOS 17)',
    ],
    [
      'Safari on iPad',
      'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 ' +
        'Mobile/15E148 Safari/604.1',
      'Safari on iPad (iPadOS 16)',
    ],
    [
      'Firefox on Ubuntu',
      'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      'Firefox 128 on Linux',
    ],
    [
      'Samsung Internet on Android',
      'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) ' +
        'SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
      'Samsung Internet 25 on Android',
    ],
    [
      'Opera on Windows',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 ' +
        'Safari/537.36 OPR/114.0.0.0',
      'Opera 114 on Windows',
    ],
    [
      'Chrome on ChromeOS',
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
      'Chrome 130 on ChromeOS',
    ],
    [
      'an unknown browser on a known platform',
      'Mozilla/5.0 (X11; Linux x86_64) SomeBrowser/1.0',
      'Unknown browser on Linux',
    ],
  ])('names %s', (_, ua, expected) => {
    expect(describeDevice(ua)).toBe(expected);
  });

  it('answers at once for a long hostile header (no catastrophic backtracking)', () => {
    // CPU time, not wall time: what the pattern costs, whatever else the machine is running.
    const before = process.cpuUsage();
    describeDevice(`Version/${'1.'.repeat(50_000)} Chrome/${'9'.repeat(50_000)}`);
    const { user, system } = process.cpuUsage(before);
    expect((user + system) / 1000).toBeLessThan(50);
  });
});
