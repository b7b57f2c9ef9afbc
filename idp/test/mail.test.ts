/**
 * The issuer's mail: over SMTP to a real server in process, or into the development outbox that
 * /dev/mail shows; never holding a request on a slow server; failures logged and counted.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '@tessera/shared';
import { loadConfig } from '../src/config/load-config.js';
import { Mailer, type MailMessage } from '../src/mail/mailer.js';
import { issuerLink, passwordResetMessage } from '../src/mail/messages.js';
import { IssuerMetrics } from '../src/metrics/metrics.js';
import { startIssuer } from './support/fixture.js';
import { useMailbox } from './support/mailbox.js';
import { parsePrometheus, sampleValue } from './support/prometheus.js';

const mailbox = useMailbox();

const MESSAGE: MailMessage = {
  to: 'Alice@Example.com',
  subject: 'Hello from Tessera',
  text: 'Plain words.',
  html: '<p>Rich <strong>words</strong>.</p>',
};

/** A mailer of its own, with a logger that remembers what it was told. */
function mailerFor(transport: { kind: 'smtp'; url: string } | { kind: 'outbox'; directory: string }) {
  const lines: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (event, fields) => lines.push({ level: 'info', event, ...(fields && { fields }) }),
    warn: (event, fields) => lines.push({ level: 'warn', event, ...(fields && { fields }) }),
    error: (event, fields) => lines.push({ level: 'error', event, ...(fields && { fields }) }),
  };
  const metrics = new IssuerMetrics({ processMetrics: false });
  const mailer = new Mailer({ from: 'Tessera <no-reply@idp.example.com>', transport }, { log, metrics });
  const counted = async (outcome: 'sent' | 'failed') =>
    sampleValue(parsePrometheus(await metrics.registry.metrics()), 'tessera_mail_messages_total', { outcome });
  return { mailer, lines, counted };
}

describe('mail over SMTP', () => {
  it('reaches the server as one message with both bodies, from the configured sender, and is counted', async () => {
    const { mailer, counted } = mailerFor({ kind: 'smtp', url: mailbox.url });
    mailer.send(MESSAGE);
    const mail = await mailbox.next('alice@example.com');
    await mailer.close();
    expect(mail.from).toBe('no-reply@idp.example.com');
    expect(mail.subject).toBe(MESSAGE.subject);
    expect(mail.text.trim()).toBe(MESSAGE.text);
    expect(mail.html).toContain('<strong>words</strong>');
    expect(mail.parsed.from?.value).toEqual([{ name: 'Tessera', address: 'no-reply@idp.example.com' }]);
    expect(await counted('sent')).toBe(1);
    expect(await counted('failed')).toBe(0);
  });

  it('logs and counts a failure, without the address or the body', async () => {
    // A port nothing listens on: the connection is refused at once.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { mailer, lines, counted } = mailerFor({ kind: 'smtp', url: `smtp://127.0.0.1:${port}` });
    mailer.send(MESSAGE);
    await mailer.close();
    expect(await counted('failed')).toBe(1);
    expect(await counted('sent')).toBe(0);
    const failure = lines.find((l) => l.event === 'mail.failed');
    expect(failure?.level).toBe('error');
    expect(JSON.stringify(failure)).not.toMatch(/alice|Plain words/i);
  });

  it('does not hold the sender while a server accepts the connection and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { mailer, counted } = mailerFor({
      kind: 'smtp',
      url: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    });
    const started = performance.now();
    mailer.send(MESSAGE);
    // Handing a message on does not wait for the server: no await happened above.
    expect(performance.now() - started).toBeLessThan(50);
    // The server hangs up without a greeting: the message fails, and is counted.
    await new Promise<void>((r) => setTimeout(r, 100));
    for (const socket of sockets) socket.destroy();
    silent.close();
    await mailer.close();
    expect(await counted('failed')).toBe(1);
  });
});

describe('the development outbox', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-outbox-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('holds each message as an RFC 5322 file a mail parser reads back', async () => {
    const { mailer, counted } = mailerFor({ kind: 'outbox', directory });
    mailer.send(MESSAGE);
    await mailer.close();
    const names = readdirSync(directory);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[\w-]+\.eml$/);
    const parsed = await simpleParser(readFileSync(join(directory, names[0]!)));
    expect(parsed.subject).toBe(MESSAGE.subject);
    expect(parsed.text?.trim()).toBe(MESSAGE.text);
    expect(parsed.html).toContain('<strong>words</strong>');
    expect(await counted('sent')).toBe(1);
  });
});

describe('the messages', () => {
  it('link only to the issuer’s own origin, and say the product and the app in both bodies', () => {
    expect(issuerLink('https://idp.example.com', '/password/reset', { token: 'a b' })).toBe(
      'https://idp.example.com/password/reset?token=a+b',
    );
    // A path that names another host is still on the issuer's origin.
    expect(new URL(issuerLink('https://idp.example.com', '//evil.example/x')).origin).toBe('https://idp.example.com');
    const message = passwordResetMessage({
      to: 'alice@example.com',
      url: 'https://idp.example.com/password/reset?token=t',
      lifetime: 1800,
      appName: 'Web <App>',
    });
    for (const body of [message.text, message.html]) expect(body).toContain('Tessera');
    expect(message.text).toContain('Web <App>');
    expect(message.text).toContain('30 minutes');
    // The app's name is data: escaped in the HTML body.
    expect(message.html).toContain('Web &lt;App&gt;');
    expect(message.html).not.toContain('<App>');
  });
});

describe('the development mail viewer', () => {
  it('lists the outbox and shows a message escaped, with only the issuer’s links clickable', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tessera-viewer-'));
    const idp = await startIssuer({ env: { TESSERA_MAIL_OUTBOX: directory } });
    try {
      const own = `${idp.url}/password/reset?token=abc`;
      idp.issuer.ctx.mailer.send({
        to: 'alice@example.com',
        subject: 'Reset <script>alert(1)</script>',
        text: `Follow ${own} or https://evil.example/phish`,
        html: '<p onclick="steal()">Hi</p><script>alert(2)</script>',
      });
      await idp.issuer.ctx.mailer.idle();
      const list = await fetch(`${idp.url}/dev/mail`);
      expect(list.status).toBe(200);
      const listed = await list.text();
      expect(listed).toContain('Reset &lt;script&gt;');
      expect(listed).not.toContain('<script>alert');
      const [name] = readdirSync(directory);
      expect(listed).toContain(`href="/dev/mail/${name}"`);

      const shown = await (await fetch(`${idp.url}/dev/mail/${name}`)).text();
      expect(shown).toContain(`<a href="${own}">`);
      expect(shown).not.toContain('href="https://evil.example');
      expect(shown).toContain('https://evil.example/phish');
      expect(shown).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(shown).not.toMatch(/<script>alert|<p onclick/);

      for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'missing.eml', '%2E%2E'])
        expect((await fetch(`${idp.url}/dev/mail/${bad}`)).status).toBe(404);
    } finally {
      await idp.cleanup();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('is not served when mail goes out by SMTP', async () => {
    const idp = await startIssuer({ env: mailbox.env() });
    try {
      expect((await fetch(`${idp.url}/dev/mail`)).status).toBe(404);
    } finally {
      await idp.cleanup();
    }
  });
});

describe('configuration', () => {
  it('sends from no-reply at the issuer’s host by default, to the outbox beside the database', () => {
    const config = loadConfig({ TESSERA_ISSUER: 'https://idp.example.com', TESSERA_DATABASE: 'var/db/tessera.db' });
    expect(config.mail).toEqual({
      from: 'Tessera <no-reply@idp.example.com>',
      transport: { kind: 'outbox', directory: join('var/db', 'outbox') },
    });
    expect(loadConfig({ TESSERA_SMTP_URL: 'smtps://u:p@mail.example.com:465' }).mail.transport).toEqual({
      kind: 'smtp',
      url: 'smtps://u:p@mail.example.com:465',
    });
  });
});
