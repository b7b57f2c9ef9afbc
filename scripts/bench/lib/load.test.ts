/** The server-cost figures the benchmark reads from /proc: of this very process, and of a process tree. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleProcess, sampleProcessTree } from './load.js';

/** JavaScript that runs until its process has spent 300 ms more CPU time (not clock time: the machine may be busy). */
const BURN_300_MS =
  'const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if (u.user + u.system > 3e5) break; }';

describe.runIf(process.platform === 'linux')('sampleProcess', () => {
  it('counts the write calls a process makes and the bytes they wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
    try {
      const before = sampleProcess(process.pid);
      for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), Buffer.alloc(100_000, i));
      const after = sampleProcess(process.pid);
      expect(after.writeCalls - before.writeCalls).toBeGreaterThanOrEqual(10);
      expect(after.writtenBytes - before.writtenBytes).toBeGreaterThanOrEqual(1_000_000);
      expect(after.systemMicros).toBeLessThanOrEqual(after.cpuMicros);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts the CPU time a process spends, in microseconds', () => {
    const before = sampleProcess(process.pid);
    // 200 ms of this process's own CPU (not of the clock: the machine may be busy), by Node's count.
    const start = process.cpuUsage();
    let spent = 0;
    while (spent < 200_000) {
      const used = process.cpuUsage(start);
      spent = used.user + used.system;
    }
    const after = sampleProcess(process.pid);
    // /proc counts in clock ticks (10 ms here): at least 150 ms of the 200 ms must show.
    expect(after.cpuMicros - before.cpuMicros).toBeGreaterThanOrEqual(150_000);
    // And not the 200 s a unit slipped by a thousand would make it (other threads of this
    // process count too, so the bound is loose).
    expect(after.cpuMicros - before.cpuMicros).toBeLessThan(20_000_000);
  });

  it("tells the main thread's CPU time from the other threads'", async () => {
    // A process that, when told, spends 300 ms of CPU on a worker thread, then 300 ms on its main thread.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { Worker } = require('node:worker_threads');
        process.stdin.on('data', (d) => {
          const done = () => process.stdout.write('done');
          if (String(d) === 'worker') new Worker(${JSON.stringify(BURN_300_MS)}, { eval: true }).once('exit', done);
          else { ${BURN_300_MS}; done(); }
        });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const spend = async (where: 'worker' | 'main') => {
      const before = sampleProcess(child.pid!);
      child.stdin.write(where);
      await once(child.stdout, 'data');
      const after = sampleProcess(child.pid!);
      return { all: after.cpuMicros - before.cpuMicros, main: after.mainThreadMicros - before.mainThreadMicros };
    };
    try {
      await once(child, 'spawn');
      const onWorker = await spend('worker');
      expect(onWorker.all).toBeGreaterThanOrEqual(250_000);
      // Starting a worker costs its parent some milliseconds, far from the worker's 300.
      expect(onWorker.main).toBeLessThan(150_000);
      const onMain = await spend('main');
      expect(onMain.main).toBeGreaterThanOrEqual(250_000);
      // Never more than the whole process, give or take the clock tick (10 ms here) in which /proc
      // counts the process and each thread apart, each rounded on its own.
      expect(onMain.main).toBeLessThanOrEqual(onMain.all + 20_000);
    } finally {
      child.kill();
    }
  });

  it('answers NaN for a process that is not there, rather than failing', () => {
    const gone = sampleProcess(2 ** 22 + 1);
    expect(gone.cpuMicros).toBeNaN();
    expect(gone.mainThreadMicros).toBeNaN();
    expect(gone.writeCalls).toBeNaN();
    expect(gone.writtenBytes).toBeNaN();
  });
});

describe.runIf(process.platform === 'linux')('sampleProcessTree', () => {
  it('counts the CPU time of processes of the tree that ended during the window', async () => {
    // A parent (as PostgreSQL's postmaster is) that, when told, runs a child spending 300 ms of CPU,
    // waits for it to end, and lives on.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `process.stdin.once('data', () => {
          require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(BURN_300_MS)}]);
          process.stdout.write('ended');
        });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await once(parent, 'spawn');
      const before = sampleProcessTree(parent.pid!);
      parent.stdin.write('go');
      await once(parent.stdout, 'data');
      const after = sampleProcessTree(parent.pid!);
      // The parent alone spends far less than this waiting; the child's 300 ms must show.
      expect(after.cpuMicros - before.cpuMicros).toBeGreaterThanOrEqual(250_000);
    } finally {
      parent.kill();
    }
  });
});
