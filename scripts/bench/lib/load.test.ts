/** The server-cost figures the benchmark reads from /proc: here, of this very process. */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleProcess } from './load.js';

describe.runIf(process.platform === 'linux')('sampleProcess', () => {
  it('counts the write calls a process makes and the bytes they wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
    try {
      const before = sampleProcess(process.pid);
      for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), Buffer.alloc(100_000, i));
      const after = sampleProcess(process.pid);
      expect(after.writeCalls - before.writeCalls).toBeGreaterThanOrEqual(10);
      expect(after.writtenBytes - before.writtenBytes).toBeGreaterThanOrEqual(1_000_000);
      expect(after.cpuMicros).toBeGreaterThanOrEqual(before.cpuMicros);
      expect(after.systemMicros).toBeLessThanOrEqual(after.cpuMicros);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers NaN for a process that is not there, rather than failing', () => {
    const gone = sampleProcess(2 ** 22 + 1);
    expect(gone.cpuMicros).toBeNaN();
    expect(gone.writeCalls).toBeNaN();
    expect(gone.writtenBytes).toBeNaN();
  });
});
