/**
 * Reading the audit trail as the admin console filters it: by type, person, client and time
 * range, newest first, a bounded page at a time (keyset paging by event id, so a page costs the
 * same however deep it is). Every filter is untrusted text: anything malformed is an
 * AuditQueryError with a message for the form, and nothing is read.
 */
import type { Clock } from '@tessera/shared';
import type { AuditEvent, AuditFilter, Store } from '../store/index.js';

export const AUDIT_PAGE_SIZE = 50;

export class AuditQueryError extends Error {
  readonly code = 'ERR_AUDIT_QUERY';
  constructor(message: string) {
    super(message);
    this.name = 'AuditQueryError';
  }
}

/** The filters as the form sends them, each possibly empty. */
export interface AuditQueryText {
  type: string;
  person: string;
  client: string;
  since: string;
  until: string;
  /** The id of the last event of the page before (the "Older events" link). */
  before: string;
}

/** A type as audit.ts names them: `noun.verb`. */
const TYPE = /^[a-z_]{1,32}\.[a-z_]{1,32}$/;
const SUB = /^[A-Za-z0-9_-]{1,64}$/;
const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
/** What a datetime-local input sends, read as UTC (the console shows every time in UTC). */
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function parseTime(text: string, label: string, endOfMinute: boolean): number {
  const m = LOCAL_TIME.exec(text);
  const fields = m?.slice(1).map((f) => (f === undefined ? 0 : Number(f)));
  if (!fields) throw new AuditQueryError(`${label} must be a date and time, such as 2025-03-04T17:05.`);
  const [y, mo, d, h, mi, s] = fields as [number, number, number, number, number, number];
  const at = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2025-02-31 over into March: a date that does not exist is refused.
  if (new Date(at).getUTCDate() !== d || new Date(at).getUTCMonth() !== mo - 1 || h > 23 || mi > 59 || s > 59)
    throw new AuditQueryError(`${label} is not a real date and time.`);
  // "To 17:05" includes the events of 17:05 itself, when no seconds were given.
  return endOfMinute && m![6] === undefined ? at + 59_999 : at;
}

export async function auditQuery(
  deps: { store: Store; clock: Clock },
  text: AuditQueryText,
): Promise<{ events: AuditEvent[]; older?: string }> {
  const filter: AuditFilter = {};
  const type = text.type.trim();
  if (type) {
    if (!TYPE.test(type)) throw new AuditQueryError('Type must be an event type such as user.disabled.');
    filter.type = type;
  }
  const person = text.person.trim();
  if (person) {
    if (person.includes('@')) {
      const user = person.length <= 320 ? await deps.store.users.findByEmail(person) : undefined;
      if (!user) throw new AuditQueryError('No account has that email.');
      filter.subject = user.sub;
    } else if (SUB.test(person)) filter.subject = person;
    else throw new AuditQueryError('Person must be an email address or a sub.');
  }
  const client = text.client.trim();
  if (client) {
    if (!CLIENT_ID.test(client)) throw new AuditQueryError('Client id must be 1 to 128 visible characters.');
    filter.clientId = client;
  }
  if (text.since) filter.since = parseTime(text.since, 'From', false);
  if (text.until) filter.until = parseTime(text.until, 'To', true);
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until)
    throw new AuditQueryError('From must not be after To.');
  let before: number | undefined;
  if (text.before) {
    if (!/^[1-9]\d{0,15}$/.test(text.before)) throw new AuditQueryError('That page does not exist.');
    before = Number(text.before);
  }
  // One more than a page says whether an older page exists.
  const found = await deps.store.audit.list({
    ...filter,
    ...(before === undefined ? {} : { before }),
    limit: AUDIT_PAGE_SIZE + 1,
  });
  const events = found.slice(0, AUDIT_PAGE_SIZE);
  if (found.length <= AUDIT_PAGE_SIZE) return { events };
  const next = new URLSearchParams({
    type,
    person,
    client,
    since: text.since,
    until: text.until,
    before: String(events[events.length - 1]!.id),
  });
  return { events, older: next.toString() };
}
