/**
 * A throwaway PostgreSQL cluster for tests and demos, on the real server of Debian's `postgresql`
 * package (Node only): initdb in a temp dir, started on a free loopback port, removed on stop().
 *
 * PostgreSQL refuses to run as root, so a root process runs initdb and pg_ctl as the `postgres`
 * user (which the package creates) on a dir that user owns; any other user runs them as itself.
 * The server keeps PostgreSQL's default settings (fsync on) but for where it listens and who may
 * connect: trust authentication, from the loopback address and the socket in the temp dir only.
 *
 * Clean-up does not depend on this process ending well: a watchdog shell, started before initdb,
 * reads its stdin, a pipe from this process. The pipe closes when stop() ends it or when this
 * process ends in any way (a crash, a signal, even kill -9), and the watchdog then stops the server
 * and removes the dir. So a crashed test run leaves no postgres running and no data dir behind.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ThrowawayPostgresOptions {
  /** Where initdb and pg_ctl live; by default Debian's /usr/lib/postgresql/<version>/bin, pg_config's, or PATH. */
  binDir?: string;
  /** The database created for the caller; `tessera` by default. */
  database?: string;
}

export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database>: trust authentication, loopback only. */
  url: string;
  port: number;
  database: string;
  /** The temp dir holding the data dir, the server log and the Unix socket. */
  dir: string;
  /** Stops the server (fast shutdown: sessions are ended, nothing is left to recover) and removes `dir`. */
  stop(): Promise<void>;
  /**
   * Stops the server but keeps its data (`mode` as pg_ctl's: `fast` ends sessions cleanly,
   * `immediate` is a crash, recovered from the WAL at the next start). For fault tests.
   */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the stopped server again, on the same port. */
  startServer(): Promise<void>;
}

export const POSTGRES_INSTALL_HINT =
  "Debian's PostgreSQL server is needed (initdb, pg_ctl): install it with `apt-get install postgresql` " +
  '(as root, after `apt-get update`).';

/** Attempts at a free port: another process may take the port between our probe and the server's bind. */
const PORT_ATTEMPTS = 5;
const SUPERUSER = 'postgres';

const WATCHDOG = [
  // EOF on stdin: stop() ended the pipe, or the process that started us is gone.
  'read -r _',
  'dir=$1 data=$2',
  'shift 2',
  'if [ -f "$data/postmaster.pid" ]; then',
  '  "$@" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 || "$@" stop -D "$data" -m immediate -w >/dev/null 2>&1',
  'fi',
  'rm -rf "$dir"',
].join('\n');

export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = findServerPrograms(options.binDir);
  const database = options.database ?? 'tessera';
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresAccount() : undefined;
  const runAs = asRoot ? ['runuser', '-u', SUPERUSER, '--'] : [];

  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');

  const watchdog = spawn('sh', ['-c', WATCHDOG, 'throwaway-postgres-watchdog', dir, data, ...runAs, pgCtl], {
    detached: true, // its own session: a Ctrl-C to the test run does not end it before it cleans up
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const watchdogExit = new Promise<void>((resolve) => {
    watchdog.once('exit', () => resolve());
    watchdog.once('error', () => resolve()); // not started: stop() then finds the dir still there
  });
  // A watchdog already gone makes ending its pipe fail (EPIPE); stop() reports the dir left behind.
  watchdog.stdin?.on('error', () => {});
  // Neither the watchdog nor its pipe keeps this process alive; the pipe closes when it ends.
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      watchdog.ref();
      watchdog.stdin?.end();
      await watchdogExit;
      if (existsSync(dir)) throw new Error(`the throwaway PostgreSQL dir ${dir} was not removed`);
    })();
    return stopped;
  };

  try {
    await run(
      [...runAs, join(bin, 'initdb')],
      ['-D', data, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--auth=trust'],
    );
    // Only the loopback address and a socket inside the temp dir: nothing else can reach it.
    appendFileSync(
      join(data, 'postgresql.conf'),
      `\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\n`,
    );
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');

    const port = await startOnFreePort([...runAs, pgCtl], data, log);
    await run([join(bin, 'createdb')], ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, database]);
    const stopServer = (mode: 'fast' | 'immediate' = 'fast') =>
      run([...runAs, pgCtl], ['stop', '-D', data, '-m', mode, '-w', '-t', '60']);
    const startServer = () =>
      run([...runAs, pgCtl], ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port}`]);
    const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
    return { url, port, database, dir, stop, stopServer, startServer };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

async function startOnFreePort(pgCtl: string[], data: string, log: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    // pg_ctl appends to the log (as the server's user): this attempt's lines are those after `from`.
    const from = existsSync(log) ? readFileSync(log).length : 0;
    try {
      // -w: returns once the server accepts connections (or has failed to start).
      await run(pgCtl, ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port}`]);
      return port;
    } catch (error) {
      const serverLog = existsSync(log) ? readFileSync(log).subarray(from).toString('utf8') : '';
      if (attempt < PORT_ATTEMPTS && /could not bind|address already in use/i.test(serverLog)) continue;
      throw new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message}\n${serverLog}`);
    }
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function run(command: string[], args: string[]): Promise<void> {
  const [program, ...leading] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(program, [...leading, ...args], (error, _stdout, stderr) => {
      if (error) reject(new Error(`${[...command, ...args].join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** The dir holding initdb and pg_ctl, or an Error saying how to install them. */
export function findServerPrograms(binDir?: string): string {
  const hasServer = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  const candidates = binDir === undefined ? defaultCandidates() : [binDir];
  const found = candidates.find(hasServer);
  if (found) return found;
  throw new Error(
    `PostgreSQL's server programs were not found (looked in ${candidates.join(', ')}). ${POSTGRES_INSTALL_HINT}`,
  );
}

function defaultCandidates(): string[] {
  // Debian installs each major version beside the others; the newest first.
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((version) => /^\d+$/.test(version))
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => `/usr/lib/postgresql/${version}/bin`)
    : [];
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...debian, ...pgConfigBinDir(), ...fromPath];
}

function pgConfigBinDir(): string[] {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const pgConfig = join(dir, 'pg_config');
    if (!existsSync(pgConfig)) continue;
    try {
      const out = execFileSync(pgConfig, ['--bindir'], { encoding: 'utf8' }).trim();
      return out ? [out] : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** The `postgres` account's ids, to hand it the temp dir; the package creates the account. */
function postgresAccount(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${SUPERUSER}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      `PostgreSQL refuses to run as root, and there is no ${SUPERUSER} user to run it as. ${POSTGRES_INSTALL_HINT}`,
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}
