/**
 * Reading the development outbox back (the mail viewer at /dev/mail): each `.eml` file parsed with
 * mailparser, as a mail client would, so what the viewer shows is what SMTP would have carried.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** An outbox file's name as the mailer writes it: nothing that could leave the directory. */
export const OUTBOX_NAME = /^[0-9A-Za-z_-]{1,100}\.eml$/;

/** The most messages the viewer lists: the newest. */
const LISTED = 100;

export interface OutboxMessage {
  name: string;
  to: string;
  from: string;
  subject: string;
  date: Date | undefined;
  text: string;
  /** The HTML body's source, to be shown escaped or sandboxed, never as the viewer's own markup. */
  html: string | undefined;
}

/** The newest messages' file names, newest first; none when the outbox does not exist yet. */
export async function listOutbox(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => OUTBOX_NAME.test(n))
    .sort()
    .reverse()
    .slice(0, LISTED);
}

/** One message of the outbox, parsed; undefined for a name that is not one of its files. */
export async function readOutboxMessage(directory: string, name: string): Promise<OutboxMessage | undefined> {
  if (!OUTBOX_NAME.test(name)) return undefined;
  let source: Buffer;
  try {
    source = await readFile(join(directory, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // Loaded when the viewer first opens a message: mailparser takes a sixth of a second to import,
  // which no issuer that never shows the outbox should pay at start-up.
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(source);
  const addresses = (a: typeof mail.to) => (Array.isArray(a) ? a.map((x) => x.text).join(', ') : (a?.text ?? ''));
  return {
    name,
    to: addresses(mail.to),
    from: addresses(mail.from),
    subject: mail.subject ?? '',
    date: mail.date,
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : undefined,
  };
}
