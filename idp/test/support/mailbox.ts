/**
 * A real SMTP server in process (the `smtp-server` package) on a loopback port: the issuer under
 * test sends to it through TESSERA_SMTP_URL like to any mail server, and each message it accepts
 * is parsed with mailparser, as a mail client would read it. `useMailbox()` starts one for a test
 * file; pass `mailbox.env()` to the issuer (useIssuer's `env`).
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll } from 'vitest';

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO), lower-cased. */
  to: string[];
  /** The envelope's sender (MAIL FROM). */
  from: string;
  parsed: ParsedMail;
  /** The plain-text body. */
  text: string;
  /** The HTML body. */
  html: string;
  subject: string;
}

/** How long `next` waits for a message before failing the test. */
const WAIT_MS = 10_000;

export class Mailbox {
  /** Every message accepted, in order. */
  readonly messages: ReceivedMail[] = [];
  /** What `next` has handed out already. */
  private readonly taken = new Set<ReceivedMail>();
  private readonly waiters = new Set<() => void>();
  private readonly server = new SMTPServer({
    // A test server on loopback: no TLS to negotiate, and anyone may send.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData: (stream, session, callback) => {
      simpleParser(stream).then(
        (parsed) => {
          this.messages.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            parsed,
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            subject: parsed.subject ?? '',
          });
          // Accepted only once recorded: a sender that saw 250 finds the message here.
          callback();
          for (const wake of [...this.waiters]) wake();
        },
        (e: Error) => callback(e),
      );
    },
  });
  url = '';

  /**
   * The environment that points an issuer at this mailbox, with `extra`: TESSERA_SMTP_URL is read
   * when the issuer starts (the mailbox's port is known only once it listens), so pass this object
   * as it is, not spread into another.
   */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return Object.defineProperty({ ...extra }, 'TESSERA_SMTP_URL', { enumerable: true, get: () => this.url });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Messages to `address` so far. */
  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.to.includes(address.toLowerCase()));
  }

  /** The next message to `address` not handed out before, waiting for it to arrive. */
  async next(address: string): Promise<ReceivedMail> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.to(address).find((m) => !this.taken.has(m));
      if (found) {
        this.taken.add(found);
        return found;
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 200);
        this.waiters.add(wake);
      });
    }
  }

  /** Marks every message so far as handed out: `next` then waits for new ones only. */
  skipAll(): void {
    for (const m of this.messages) this.taken.add(m);
  }
}

/** The one link in `mail`'s text body to `path` on `issuer`; fails when there is none or several. */
export function linkIn(mail: ReceivedMail, issuer: string, path: string): URL {
  const links = [...mail.text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => new URL(m[0]));
  const matching = links.filter((u) => u.origin === new URL(issuer).origin && u.pathname === path);
  if (matching.length !== 1)
    throw new Error(`expected one link to ${path} in the mail, found ${links.map((u) => u.href).join(', ') || 'none'}`);
  return matching[0]!;
}

/** A mailbox for the tests of the enclosing file, started before the issuer that uses it. */
export function useMailbox(): Mailbox {
  const mailbox = new Mailbox();
  beforeAll(() => mailbox.start());
  afterAll(() => mailbox.stop());
  return mailbox;
}
