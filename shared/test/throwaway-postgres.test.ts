/**
 * The throwaway PostgreSQL cluster runs the real server: it answers the driver's queries, two run
 * side by side, and stop() leaves neither a server nor a data dir. Without the package it fails
 * with the install command, never passes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../src/testing/throwaway-postgres.js';

const HELPER = resolve(dirname(fileURLToPath(import.meta.url)), '../src/testing/throwaway-postgres.ts');

const started: ThrowawayPostgres[] = [];
afterAll(async () => {
  await Promise.all(started.map((cluster) => cluster.stop()));
});

async function start(): Promise<ThrowawayPostgres> {
  const cluster = await startThrowawayPostgres();
  started.push(cluster);
  return cluster;
}

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('throwaway PostgreSQL', () => {
  it('runs a real server that the driver queries, on loopback, in UTF8, in the database it created', async () => {
    const cluster = await start();
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/tessera`);
    const [row] = await query(
      cluster.url,
      "select current_database() as db, current_setting('server_encoding') as encoding, " +
        "current_setting('listen_addresses') as listen, inet_server_addr()::text as addr, 6 * 7 as answer",
    );
    expect(row).toEqual({ db: 'tessera', encoding: 'UTF8', listen: '127.0.0.1', addr: '127.0.0.1/32', answer: 42 });
  });

  it('runs two clusters at once on different ports, each with its own data', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
    await query(a.url, 'create table only_in_a (id int)');
    const [row] = await query(b.url, "select to_regclass('only_in_a') is null as absent");
    expect(row).toEqual({ absent: true });
  });

  it('stop() shuts the server down and removes its dir', async () => {
    const cluster = await startThrowawayPostgres();
    expect(existsSync(join(cluster.dir, 'data', 'PG_VERSION'))).toBe(true);
    await cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
    await expect(query(cluster.url, 'select 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // A second stop() is harmless: the afterAll of a test that already stopped its cluster.
    await expect(cluster.stop()).resolves.toBeUndefined();
  });

  it('stopServer() takes the server down, crash or clean, and startServer() brings it back with its data', async () => {
    const cluster = await start();
    await query(cluster.url, 'create table kept (v int); insert into kept values (7)');
    for (const mode of ['fast', 'immediate'] as const) {
      await cluster.stopServer(mode);
      await expect(query(cluster.url, 'select 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await cluster.startServer();
      expect(await query(cluster.url, 'select v from kept')).toEqual([{ v: 7 }]);
    }
  });

  it('a test process killed with SIGKILL leaves no server and no dir behind', async () => {
    const script = `import { startThrowawayPostgres } from ${JSON.stringify(HELPER)};
      const cluster = await startThrowawayPostgres();
      console.log(JSON.stringify({ url: cluster.url, dir: cluster.dir }));
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const { url, dir } = JSON.parse(line.toString()) as { url: string; dir: string };
    await expect(query(url, 'select 1 as up')).resolves.toEqual([{ up: 1 }]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await eventually(() => !existsSync(dir), 20_000);
    await expect(query(url, 'select 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('without the server programs, fails with the command that installs them', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-postgres-'));
    try {
      await expect(startThrowawayPostgres({ binDir: empty })).rejects.toThrow(
        `PostgreSQL's server programs were not found (looked in ${empty}). ` +
          "Debian's PostgreSQL server is needed (initdb, pg_ctl): install it with `apt-get install postgresql`",
      );
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
