import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback-host.js';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'idp.localhost', '127.0.0.1', '[::1]'])('is true for %s', (hostname) => {
    expect(isLoopbackHost(hostname)).toBe(true);
  });

  it.each(['localhost.evil.example', 'mylocalhost', '127.0.0.2', 'example.com'])('is false for %s', (hostname) => {
    expect(isLoopbackHost(hostname)).toBe(false);
  });
});
