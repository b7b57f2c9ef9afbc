/**
 * Sending the issuer's mail: through SMTP with nodemailer when TESSERA_SMTP_URL is set, else
 * (outside production only: config/load-config.ts refuses it there) into the outbox directory as
 * one RFC 5322 `.eml` file per message, which the development mail viewer (/dev/mail) shows.
 *
 * A message is handed on in the background: the request that asked for it never waits for an
 * SMTP server, however slow, so neither the page's latency nor its timing depends on whether a
 * message was sent (the no-enumeration pages rely on that). Each SMTP phase is bounded by a
 * timeout, and at most MAX_PENDING messages wait at once; a failure is logged and counted
 * (`tessera_mail_messages_total{outcome="failed"}`), never retried: each message is a fresh link
 * the person can ask for again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '@tessera/shared';
import type { MailSettings } from '../config/config.js';
import { randomId } from '../crypto/random.js';
import type { IssuerMetrics } from '../metrics/metrics.js';

/** One message: both bodies are always given (a client without HTML shows the text). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Bounds on one SMTP exchange, in milliseconds: connecting, the server's greeting, and silence. */
export const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as const;
/** Messages in flight at once; past this a message is refused (logged, counted), not queued without end. */
export const MAX_PENDING = 200;

export class Mailer {
  private readonly transport: Transporter;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly settings: MailSettings,
    private readonly deps: { log: Logger; metrics: IssuerMetrics },
  ) {
    this.transport =
      settings.transport.kind === 'smtp'
        ? createTransport({ url: settings.transport.url, ...SMTP_TIMEOUTS })
        : // The stream transport renders the whole RFC 5322 message; the outbox file is that.
          createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  /**
   * Hands `message` on without waiting: its outcome is counted, and logged through `log` — the
   * logger of the request that asked for it (http/request-context.ts), so the line carries that
   * request's id though it is written after the answer went out.
   */
  send(message: MailMessage, log: Logger = this.deps.log): void {
    if (this.pending.size >= MAX_PENDING) {
      this.failed(message, new Error(`${MAX_PENDING} messages are waiting already`), log);
      return;
    }
    const sending = this.deliver(message).then(
      () => {
        this.deps.metrics.mailMessages.inc({ outcome: 'sent' });
        log.info('mail.sent', { subject: message.subject });
      },
      (e: unknown) => this.failed(message, e, log),
    );
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
  }

  /** Resolves once every message handed on so far is sent or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Lets the messages in flight finish (each bounded by SMTP_TIMEOUTS), then closes the transport. */
  async close(): Promise<void> {
    await this.idle();
    this.transport.close();
  }

  private async deliver(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({ from: this.settings.from, ...message });
    if (this.settings.transport.kind === 'outbox') {
      const { directory } = this.settings.transport;
      await mkdir(directory, { recursive: true });
      // Named by time first, so the viewer and `ls` list them in the order they were sent.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomId()}.eml`;
      await writeFile(join(directory, name), info.message as Buffer, { mode: 0o600 });
    }
  }

  private failed(message: MailMessage, e: unknown, log: Logger): void {
    this.deps.metrics.mailMessages.inc({ outcome: 'failed' });
    // The address is personal data and the body holds a link that acts: neither goes to the log.
    log.error('mail.failed', { subject: message.subject, error: e instanceof Error ? e.message : String(e) });
  }
}
