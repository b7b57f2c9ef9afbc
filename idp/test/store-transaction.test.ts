/**
 * The SQLite repositories' one way into a transaction (store/database.ts `transaction`): all or
 * nothing, nested as a savepoint, begun immediate when asked, and made once per connection rather
 * than per call. The repositories' transactions under another writer's lock are in
 * store-write-lock.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, transaction, type OpenDatabase } from '../src/store/database.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-transaction-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let database: OpenDatabase;
let file: string;
beforeEach(() => {
  file = join(dir, `${Date.now()}-${Math.random()}.db`);
  database = openDatabase(file);
  database.sqlite.exec('create table notes (n integer primary key)');
});
afterEach(() => database.close());

const notes = () => database.sqlite.prepare('select n from notes order by n').pluck().all();
const note = (n: number) => database.sqlite.prepare('insert into notes values (?)').run(n);

describe('transaction', () => {
  it('commits what the work wrote and returns what it returned', () => {
    expect(
      transaction(database.db, (tx) => {
        note(1);
        note(2);
        return tx === database.db;
      }),
    ).toBe(true);
    expect(notes()).toEqual([1, 2]);
  });

  it('writes nothing when the work throws, and passes the error on', () => {
    const broken = new Error('half way');
    expect(() =>
      transaction(database.db, () => {
        note(1);
        throw broken;
      }),
    ).toThrow(broken);
    expect(notes()).toEqual([]);
    expect(database.sqlite.inTransaction).toBe(false);
  });

  it('rolls back only an inner transaction that throws, as a savepoint', () => {
    transaction(database.db, () => {
      note(1);
      expect(() =>
        transaction(database.db, () => {
          note(2);
          throw new Error('inner');
        }),
      ).toThrow('inner');
      note(3);
    });
    expect(notes()).toEqual([1, 3]);
  });

  it('refuses work that returns a promise: no lock is held across an await', () => {
    expect(() => transaction(database.db, async () => note(1))).toThrow(TypeError);
    expect(database.sqlite.inTransaction).toBe(false);
  });

  it('begun immediate, holds the write lock before its first statement', () => {
    const other = new Database(file);
    other.pragma('busy_timeout = 0');
    try {
      transaction(
        database.db,
        () => {
          expect(() => other.prepare('insert into notes values (9)').run()).toThrow(/locked/);
        },
        { behavior: 'immediate' },
      );
      // Deferred, a transaction that has not written yet leaves the lock to others.
      transaction(database.db, () => {
        other.prepare('insert into notes values (8)').run();
      });
    } finally {
      other.close();
    }
    expect(notes()).toEqual([8]);
  });

  it('makes its wrapper once per connection, not once per call', () => {
    const made = vi.spyOn(database.sqlite, 'transaction');
    for (let i = 0; i < 3; i++) transaction(database.db, () => note(i));
    expect(made).toHaveBeenCalledTimes(1);
    expect(notes()).toEqual([0, 1, 2]);
  });
});
