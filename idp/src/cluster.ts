/**
 * Several processes serving one port (TESSERA_WORKERS above 1, node:cluster), so one machine uses
 * every core: this process is the primary, and serves nothing itself. It prepares what must be
 * done once before any worker opens the database, forks the workers (each runs main.ts again and
 * is a whole issuer; the primary hands them the port's connections in turn), replaces a worker
 * that dies, and stops them all on SIGINT / SIGTERM. What the workers share, and why each shared
 * thing stays right, is in docs/architecture.md, "Processes".
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@tessera/shared';
import { exitOnStartFailure } from '@tessera/shared/node';

export interface ClusterOptions {
  /** Begins the line a failed start writes to stderr. */
  name: string;
  workers: number;
  log: Logger;
  /** What must be done once, before the first worker starts. */
  prepare: () => Promise<void>;
}

/** A worker that dies younger than this was failing, not serving: its replacement waits. */
const STABLE_AFTER_MS = 30_000;
/** The wait before replacing a worker that died young, doubled at each death in a row … */
const FIRST_RESTART_DELAY_MS = 1000;
/** … up to this. */
const MAX_RESTART_DELAY_MS = 60_000;
/** How long the workers have to finish their requests and close before they are killed. */
const STOP_TIMEOUT_MS = 10_000;

/** One of the `workers` places: the worker in it now, and how the ones before it ended. */
interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  /** Workers of this slot in a row that died younger than STABLE_AFTER_MS. */
  youngDeaths: number;
  restart: NodeJS.Timeout | undefined;
}

/** Prepares, then keeps `workers` processes serving until told to stop. */
export function runCluster(options: ClusterOptions): void {
  options.prepare().then(
    () => superviseWorkers(options),
    (error: unknown) => exitOnStartFailure(options.name, error),
  );
}

function superviseWorkers({ name, workers, log }: ClusterOptions): void {
  const slots: Slot[] = Array.from({ length: workers }, () => ({
    worker: undefined,
    startedAt: 0,
    youngDeaths: 0,
    restart: undefined,
  }));
  const slotOf = new Map<Worker, Slot>();
  let listening = 0;
  /** True once every slot has had a worker listening: a failure before that is a failed start. */
  let started = false;
  let stopping = false;
  let exitCode = 0;

  const fork = (slot: Slot) => {
    slot.restart = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    slotOf.set(worker, slot);
  };
  // A worker stays in cluster.workers until its IPC channel has closed too, which may come after its exit.
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  cluster.on('listening', (worker, address) => {
    log.info('cluster.worker_listening', { worker: worker.id, pid: worker.process.pid, port: address.port });
    if (!started && ++listening === workers) {
      started = true;
      log.info('cluster.listening', { workers, pid: process.pid });
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const slot = slotOf.get(worker);
    slotOf.delete(worker);
    if (slot?.worker === worker) slot.worker = undefined;
    if (stopping) {
      if (alive().length === 0) {
        log.info('cluster.stopped', { pid: process.pid });
        process.exit(exitCode);
      }
      return;
    }
    if (!started || slot === undefined) {
      // A worker that could not start (the port taken, the database unreadable): the others would
      // fail alike, so the whole start fails, with the worker's own exit code (runServer's).
      process.stderr.write(`${name}: failed to start: a worker exited with ${signal ?? code} before listening\n`);
      exitCode = code || 1;
      stopAll();
      return;
    }
    const age = Date.now() - slot.startedAt;
    slot.youngDeaths = age < STABLE_AFTER_MS ? slot.youngDeaths + 1 : 0;
    const delay =
      slot.youngDeaths === 0 ? 0 : Math.min(FIRST_RESTART_DELAY_MS * 2 ** (slot.youngDeaths - 1), MAX_RESTART_DELAY_MS);
    log.error('cluster.worker_died', {
      worker: worker.id,
      pid: worker.process.pid,
      code,
      signal,
      age_ms: age,
      restart_in_ms: delay,
    });
    slot.restart = setTimeout(() => fork(slot), delay);
  });

  /** SIGTERM to every worker: each closes its server, finishes its requests and exits (runServer). */
  const stopAll = () => {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restart);
    const remaining = alive();
    if (remaining.length === 0) process.exit(exitCode);
    for (const worker of remaining) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of alive()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    log.info('cluster.stopping', { signal, workers: alive().length });
    stopAll();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  log.info('cluster.starting', { workers, pid: process.pid });
  for (const slot of slots) fork(slot);
}

/** A worker's logger: every line names the worker, as the primary's lines about it do. */
export function workerLogger(log: Logger): Logger {
  const worker = cluster.worker?.id;
  return {
    info: (event, fields) => log.info(event, { worker, ...fields }),
    warn: (event, fields) => log.warn(event, { worker, ...fields }),
    error: (event, fields) => log.error(event, { worker, ...fields }),
  };
}
