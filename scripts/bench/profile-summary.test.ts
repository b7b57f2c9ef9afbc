import { describe, expect, it } from 'vitest';
import { moduleOf, summarize } from './profile-summary.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });

describe('profile summary', () => {
  it('names a frame by package, workspace file, node module or V8 pseudo-frame', () => {
    expect(moduleOf('file:///srv/x/node_modules/drizzle-orm/sqlite-core/session.js', 'get')).toBe('drizzle-orm');
    expect(moduleOf('file:///srv/x/node_modules/@hono/node-server/dist/index.mjs', 'f')).toBe('@hono/node-server');
    expect(moduleOf('node:internal/crypto/sig', 'signOneShot')).toBe('node:internal/crypto/sig');
    expect(moduleOf(new URL('../../idp/dist/app.js', import.meta.url).href, 'f')).toBe('idp/dist/app.js');
    expect(moduleOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(moduleOf('', 'writev')).toBe('(native)');
  });

  it('sums self time from the samples, by function and by module, idle left out of the total', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('get', 'file:///a/node_modules/drizzle-orm/x.js') },
        { id: 4, callFrame: frame('run', 'file:///a/node_modules/drizzle-orm/y.js') },
        { id: 5, callFrame: frame('signOneShot', 'node:internal/crypto/sig') },
      ],
      startTime: 0,
      endTime: 10_000,
      // Each sample's time is the delta that follows it.
      samples: [3, 2, 4, 5, 3],
      timeDeltas: [0, 3000, 90_000, 1000, 2000, 4000],
    };
    const text = summarize([profile], 10);
    expect(text).toContain('10 ms sampled');
    expect(text).toContain('| `drizzle-orm` | 8 | 80.0 |');
    expect(text).toContain('| `node:internal/crypto/sig` | 2 | 20.0 |');
    expect(text).toContain('| `get drizzle-orm:10` | 7 | 70.0 |');
    expect(text).not.toContain('(idle)');
  });
});
