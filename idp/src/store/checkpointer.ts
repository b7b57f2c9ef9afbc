/**
 * WAL checkpoints on a thread of their own. A checkpoint copies the write-ahead log back into the
 * database file and fsyncs both; done by the connection that serves requests (SQLite's automatic
 * checkpoint, every 1000 pages), each one stalls every request in flight for the length of two
 * fsyncs and the copy. A second connection on a worker thread does them instead, in PASSIVE mode:
 * it never waits for, nor blocks, the readers and writers on the request path (sqlite.org/wal.html,
 * "Checkpointing"; sqlite.org/c3ref/wal_checkpoint_v2.html).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the thread checkpoints: the WAL it leaves behind is about this much of the writes. */
export const CHECKPOINT_INTERVAL_MS = 200;

/**
 * The request connection's own automatic checkpoint is moved this far out (pages of 4 KiB, about
 * 160 MB of WAL), not switched off: should the thread ever stop, or fall behind a burst of writes,
 * the WAL still stays bounded and the request connection checkpoints as SQLite does by default.
 * Under sustained writes it is also what brings the log back to its start (a PASSIVE checkpoint
 * never catches the writer's last frames), at the cost of fsyncs on the request connection — the
 * WAL, the database, then the new log header (sqlite.org/src/info/ff5be73dee) — that stall every
 * request in flight for 10–20 ms. The farther out, the rarer: at 10,000 pages the code grants'
 * benchmark met one two or three times a second, which was its p99.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 40_000;

/** Evaluated as a CommonJS worker, so it runs the same under the compiled issuer, tsx and vitest. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another connection (another issuer process) is checkpointing: it does the work this time.
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Closes the thread's connection and ends the thread; the caller closes its own after. */
  stop(): void;
}

/**
 * Starts checkpointing `file` (a WAL database already opened by the caller) every
 * `intervalMs`. `onFailure` runs once if the thread dies, so the caller can checkpoint itself again.
 */
export function startCheckpointer(
  file: string,
  onFailure: (error: Error) => void,
  intervalMs = CHECKPOINT_INTERVAL_MS,
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD, { eval: true, workerData: { file, driver, intervalMs } });
  // The thread never keeps a process alive: the database's close() or the process's exit ends it.
  worker.unref();
  let stopped = false;
  worker.once('error', (error) => {
    if (!stopped) onFailure(error);
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      worker.postMessage('stop');
    },
  };
}
