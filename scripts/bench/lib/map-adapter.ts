/**
 * An in-memory adapter for oidc-provider, indexed the way a real one (Redis, say) would be.
 * Its quick-start adapter is an LRU of 1,000 entries, so the codes made ahead of a round would
 * push each other out; and a scan for sessions by uid (which oidc-provider does on every use of a
 * token bound to a session) would grow with the run and charge oidc-provider for the adapter.
 */
type Entry = { payload: Record<string, unknown>; expiresAt: number };

export class MapAdapter {
  static store = new Map<string, Entry>();
  static byGrant = new Map<string, Set<string>>();
  static byUid = new Map<string, string>();
  constructor(private readonly model: string) {}
  private key(id: string) {
    return `${this.model}:${id}`;
  }
  private static live(e: Entry | undefined) {
    return e && e.expiresAt > Date.now() ? e.payload : undefined;
  }
  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
    const key = this.key(id);
    MapAdapter.store.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
    const grantId = payload.grantId as string | undefined;
    if (grantId) {
      const keys = MapAdapter.byGrant.get(grantId) ?? new Set<string>();
      MapAdapter.byGrant.set(grantId, keys.add(key));
    }
    if (typeof payload.uid === 'string') MapAdapter.byUid.set(payload.uid, key);
  }
  async find(id: string) {
    return MapAdapter.live(MapAdapter.store.get(this.key(id)));
  }
  async findByUid(uid: string) {
    const key = MapAdapter.byUid.get(uid);
    return key === undefined ? undefined : MapAdapter.live(MapAdapter.store.get(key));
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const e = MapAdapter.store.get(this.key(id));
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    const key = this.key(id);
    const uid = MapAdapter.store.get(key)?.payload.uid;
    if (typeof uid === 'string') MapAdapter.byUid.delete(uid);
    MapAdapter.store.delete(key);
  }
  async revokeByGrantId(grantId: string) {
    for (const k of MapAdapter.byGrant.get(grantId) ?? []) MapAdapter.store.delete(k);
    MapAdapter.byGrant.delete(grantId);
  }
}
