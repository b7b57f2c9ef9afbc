/**
 * A durable adapter for oidc-provider: its models in one SQLite table through better-sqlite3, with
 * the durability Tessera's store has (WAL, synchronous=NORMAL: a commit survives a crash of the
 * process). The in-memory MapAdapter keeps nothing across a restart, which no deployment can run
 * on; this is the peer as one would deploy it on one machine, so that the cost of keeping state
 * is in both columns of a comparison. Statements are prepared once; the lookups a real adapter
 * needs (by grant, by session uid, by user code, and the expiry a sweep deletes by) are indexed.
 */
import Database from 'better-sqlite3';

type Payload = Record<string, unknown>;

interface Row {
  payload: string;
  expires_at: number;
  consumed_at: number | null;
}

const SCHEMA = `
create table if not exists oidc_models (
  model text not null,
  id text not null,
  payload text not null,
  grant_id text,
  uid text,
  user_code text,
  expires_at integer not null,
  consumed_at integer,
  primary key (model, id)
);
create index if not exists oidc_models_grant on oidc_models (grant_id) where grant_id is not null;
create index if not exists oidc_models_uid on oidc_models (model, uid) where uid is not null;
create index if not exists oidc_models_user_code on oidc_models (model, user_code) where user_code is not null;
create index if not exists oidc_models_expiry on oidc_models (expires_at);
`;

/** Opens (creating if need be) the database at `file` and returns an adapter class over it. */
export function sqliteAdapter(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  const upsert = db.prepare<[string, string, string, string | null, string | null, string | null, number]>(
    `insert into oidc_models (model, id, payload, grant_id, uid, user_code, expires_at) values (?, ?, ?, ?, ?, ?, ?)
     on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
       uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = null`,
  );
  const find = db.prepare<[string, string], Row>(
    'select payload, expires_at, consumed_at from oidc_models where model = ? and id = ?',
  );
  const findByUid = db.prepare<[string, string], Row>(
    'select payload, expires_at, consumed_at from oidc_models where model = ? and uid = ?',
  );
  const findByUserCode = db.prepare<[string, string], Row>(
    'select payload, expires_at, consumed_at from oidc_models where model = ? and user_code = ?',
  );
  const consume = db.prepare<[number, string, string]>(
    'update oidc_models set consumed_at = ? where model = ? and id = ?',
  );
  const destroy = db.prepare<[string, string]>('delete from oidc_models where model = ? and id = ?');
  const revokeByGrantId = db.prepare<[string]>('delete from oidc_models where grant_id = ?');

  const now = () => Math.floor(Date.now() / 1000);
  const live = (row: Row | undefined): Payload | undefined => {
    if (!row || row.expires_at <= now()) return undefined;
    const payload = JSON.parse(row.payload) as Payload;
    return row.consumed_at === null ? payload : { ...payload, consumed: row.consumed_at };
  };
  const text = (value: unknown) => (typeof value === 'string' ? value : null);

  return class SqliteAdapter {
    static close(): void {
      db.close();
    }
    constructor(readonly model: string) {}
    async upsert(id: string, payload: Payload, expiresIn: number) {
      upsert.run(
        this.model,
        id,
        JSON.stringify(payload),
        text(payload.grantId),
        text(payload.uid),
        text(payload.userCode),
        now() + expiresIn,
      );
    }
    async find(id: string) {
      return live(find.get(this.model, id));
    }
    async findByUid(uid: string) {
      return live(findByUid.get(this.model, uid));
    }
    async findByUserCode(userCode: string) {
      return live(findByUserCode.get(this.model, userCode));
    }
    async consume(id: string) {
      consume.run(now(), this.model, id);
    }
    async destroy(id: string) {
      destroy.run(this.model, id);
    }
    async revokeByGrantId(grantId: string) {
      revokeByGrantId.run(grantId);
    }
  };
}
