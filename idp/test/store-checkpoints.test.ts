/** WAL checkpoints run on a thread of their own, off the connection that serves requests. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from '../src/store/checkpointer.js';
import { openDatabase } from '../src/store/database.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;

describe('WAL checkpoints', () => {
  it('copy committed writes into the database file without the request connection checkpointing', async () => {
    const file = join(dir, 'issuer.db');
    const database = openDatabase(file);
    try {
      const { sqlite } = database;
      sqlite.exec('create table ballast (bytes blob)');
      const before = statSync(file).size;
      // 600 pages in 60 commits: under SQLite's own automatic checkpoint (1000 pages), so without
      // the thread they would all still sit in the WAL.
      const insert = sqlite.prepare('insert into ballast values (randomblob(?))');
      for (let i = 0; i < 60; i++) sqlite.transaction(() => Array.from({ length: 10 }, () => insert.run(PAGE)))();
      const written = 600 * PAGE;
      const deadline = Date.now() + 10_000;
      while (statSync(file).size < before + written && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(statSync(file).size).toBeGreaterThanOrEqual(before + written);
      // The request connection itself checkpoints only far past SQLite's default.
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(40_000);
      expect(sqlite.prepare('select count(*) as n from ballast').get()).toEqual({ n: 600 });
    } finally {
      database.close();
    }
  });

  it('tells its owner when the thread fails, so that the request connection checkpoints again', async () => {
    const failed = await new Promise<Error>((resolve) => {
      startCheckpointer(join(dir, 'missing', 'issuer.db'), resolve);
    });
    expect(failed.message).toMatch(/directory does not exist|unable to open/);
  });

  it('reopens a database whose checkpoints ran on the thread, with every commit in it', () => {
    const file = join(dir, 'reopen.db');
    const first = openDatabase(file);
    first.sqlite.exec('create table notes (n integer)');
    const insert = first.sqlite.prepare('insert into notes values (?)');
    for (let i = 0; i < 500; i++) insert.run(i);
    first.close();
    const second = openDatabase(file);
    try {
      expect(second.sqlite.prepare('select count(*) as n, sum(n) as total from notes').get()).toEqual({
        n: 500,
        total: (499 * 500) / 2,
      });
    } finally {
      second.close();
    }
  });
});
