/** Writing the audit trail: who did what, from where, when. */
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';

export type AuditType =
  | 'sign_in.succeeded'
  | 'sign_in.failed'
  | 'authorization_code.replayed'
  | 'refresh_token.reused'
  | 'session.ended'
  | 'device.ended'
  | 'key.rotated'
  | 'client.created'
  | 'user.created'
  | 'token.revoked';

export interface AuditFields {
  subject?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export async function audit(deps: { store: Store; clock: Clock }, type: AuditType, f: AuditFields = {}): Promise<void> {
  await deps.store.audit.record({
    at: deps.clock.now(),
    type,
    subject: f.subject ?? null,
    clientId: f.clientId ?? null,
    ip: f.ip ?? null,
    detail: f.detail ?? null,
  });
}
