/**
 * Several issuer nodes on one PostgreSQL database, as behind a load balancer: each a real issuer
 * with its own pool, on a database of its own per test group (CREATE DATABASE on one throwaway
 * server per file). The clients and people are seeded once, through the first node.
 */
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { seed, startIssuer, type Fixtures, type RunningIssuer, type StartOptions } from './fixture.js';
import { freePort, spawnIssuer, type IssuerProcess } from './issuer-process.js';

let server: ThrowawayPostgres | undefined;
let admin: pg.Client | undefined;
let databases = 0;

/** One throwaway PostgreSQL server for the file, started before its tests and removed after them. */
export function useNodeServer(): void {
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
}

export interface Nodes {
  nodes: RunningIssuer[];
  fx: Fixtures;
  /** The test's own connections to the nodes' database (to read what they wrote). */
  db: Db;
  /** The nodes' database, as TESSERA_DATABASE names it. */
  url: string;
}

/** A query on the test's own pool. */
export interface Db {
  query<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * `count` issuer nodes on a new database, for the tests of the enclosing `describe`; filled in
 * before them, stopped after them. `options(i)` gives node i's start options.
 */
export function useNodes(count: number, options: (i: number) => StartOptions = () => ({})): Nodes {
  let pool: pg.Pool | undefined;
  const state: Nodes = {
    nodes: [],
    fx: {} as Fixtures,
    url: '',
    db: { query: <R extends pg.QueryResultRow>(text: string, params?: unknown[]) => pool!.query<R>(text, params) },
  };
  beforeAll(async () => {
    const name = `nodes_${++databases}`;
    await admin!.query(`create database ${name}`);
    const url = server!.url.replace(/\/[^/]+$/, `/${name}`);
    state.url = url;
    for (let i = 0; i < count; i++) {
      const o = options(i);
      // One issuer behind every node: the first node's URL is the issuer identifier they all sign
      // with and check, as nodes behind a load balancer share its URL.
      const issuer = i === 0 ? {} : { TESSERA_ISSUER: state.nodes[0]!.url };
      state.nodes.push(await startIssuer({ ...o, env: { ...o.env, ...issuer, TESSERA_DATABASE: url } }));
    }
    Object.assign(state.fx, await seed(state.nodes[0]!));
    pool = new pg.Pool({ connectionString: url, max: 2 });
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    for (const node of state.nodes) await node.cleanup();
  });
  return state;
}

/** A node as the tests see it: somewhere to send requests. */
export interface NodeAddress {
  url: string;
}

export interface ProcessNodes {
  /** Node 0 runs in this process (the clients are registered through it); the others are processes. */
  nodes: NodeAddress[];
  first: RunningIssuer;
  /** Every node but the first: processes of their own. */
  processes: IssuerProcess[];
  fx: Fixtures;
  db: Db;
  /** The nodes' database, as TESSERA_DATABASE names it (for the CLI). */
  url: string;
}

/**
 * One issuer node in this process and `count - 1` as child processes of their own (`src/main.ts`,
 * as production runs it), on a new database: nodes that share nothing but the database and the
 * issuer identifier, not even a module or an event loop. `env` is every node's environment;
 * `first` the options of the node in this process (those the environment cannot set).
 */
export function useNodeProcesses(
  count: number,
  options: { env?: Record<string, string>; first?: StartOptions } = {},
): ProcessNodes {
  const { env = {}, first: firstOptions = {} } = options;
  const local = useNodes(1, () => ({ ...firstOptions, env: { ...env, ...firstOptions.env } }));
  const state = {
    nodes: [] as NodeAddress[],
    processes: [] as IssuerProcess[],
    fx: local.fx,
    db: local.db,
  } as ProcessNodes;
  beforeAll(async () => {
    const first = local.nodes[0]!;
    state.first = first;
    state.url = local.url;
    state.nodes.push(first);
    // Started side by side, as a cluster's nodes start: each runs the start-up (migration lock,
    // key ring) against the others.
    const spawned = await Promise.allSettled(
      Array.from({ length: count - 1 }, async () =>
        spawnIssuer({ database: local.url, port: await freePort(), env: { ...env, TESSERA_ISSUER: first.url } }),
      ),
    );
    for (const s of spawned) if (s.status === 'fulfilled') state.processes.push(s.value);
    const failed = spawned.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    state.nodes.push(...state.processes);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(state.processes.map((child) => child.stop()));
  });
  return state;
}

/** One number from one row of the test's own query. */
export async function countOf(db: Db, text: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(text, params);
  return Number(rows[0]!.n);
}
