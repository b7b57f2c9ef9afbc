/**
 * Clients and resources in the admin console, over real HTTP: a client registered (its secret
 * shown once, and good at the issuer), changed, its secret rotated (the old one refused at once),
 * deleted; a resource registered. Each change audited with the admin as actor; every refused form
 * says why and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { basicAuth } from './support/browser.js';
import { at, consoleBrowser, locationPath, makePerson, post } from './support/admin-console.js';
import { tableDigests } from './support/db-digest.js';
import { expectPageSecurityHeaders } from './support/pages.js';
import { sql, storedJson, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

const digest = () => tableDigests(idp.issuer.ctx.store.database);

/** Whether the issuer takes `id` and `secret` as a client's authentication (at introspection). */
async function authenticates(id: string, secret: string): Promise<boolean> {
  const res = await fetch(at(idp, '/introspect'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(id, secret) },
    body: new URLSearchParams({ token: 'not-a-token' }),
  });
  return res.status === 200;
}

const secretOf = (html: string) => /<code id="client-secret">([^<]+)</.exec(html)?.[1];
const clientIdOf = (html: string) => /<code id="client-id">([^<]+)</.exec(html)?.[1];

async function auditDetails(type: string, clientId: string) {
  const rows = await sql(
    idp,
    'select detail from audit_events where type = ? and client_id = ? order by id',
    type,
    clientId,
  );
  return rows.map((r) => storedJson(r.detail));
}

describe('clients and resources in the console', () => {
  it('registers, changes, rotates the secret of and deletes a client, each audited with the admin', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'clients-admin' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const listed = await jar.fetch(at(idp, '/admin/clients'));
    expectPageSecurityHeaders(listed);
    expect(await listed.text()).toContain(fx.confidential.id);

    const created = await post(idp, jar, '/admin/clients', {
      form_token: formToken,
      name: 'Console App',
      type: 'confidential',
      party: 'first',
      redirect_uris: 'https://console-app.example.test/callback\r\n\r\n',
      resource_0: fx.api.id,
      require_mfa: '1',
    });
    expect(created.status).toBe(200);
    expectPageSecurityHeaders(created);
    const page = await created.text();
    const id = clientIdOf(page)!;
    const secret = secretOf(page)!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await authenticates(id, secret)).toBe(true);
    const stored = await idp.issuer.ctx.store.clients.findById(id);
    expect(stored).toMatchObject({
      name: 'Console App',
      redirectUris: ['https://console-app.example.test/callback'],
      allowedResources: [fx.api.id],
      requireMfa: true,
    });
    // Shown once: the client's own page has no secret on it.
    expect(secretOf(await (await jar.fetch(at(idp, `/admin/clients/${id}`))).text())).toBeUndefined();

    const changed = await post(idp, jar, `/admin/clients/${id}`, {
      form_token: formToken,
      redirect_uris: 'https://console-app.example.test/callback\nhttps://console-app.example.test/other',
    });
    expect(locationPath(idp, changed)).toBe(`/admin/clients/${id}?done=updated`);
    expect(await idp.issuer.ctx.store.clients.findById(id)).toMatchObject({
      redirectUris: ['https://console-app.example.test/callback', 'https://console-app.example.test/other'],
      allowedResources: [],
      requireMfa: false,
    });
    // The change kept the secret.
    expect(await authenticates(id, secret)).toBe(true);

    const rotated = await post(idp, jar, `/admin/clients/${id}/rotate-secret`, { form_token: formToken });
    const newSecret = secretOf(await rotated.text())!;
    expect(newSecret).not.toBe(secret);
    expect(await authenticates(id, newSecret)).toBe(true);
    expect(await authenticates(id, secret)).toBe(false);

    const deleted = await post(idp, jar, `/admin/clients/${id}/delete`, { form_token: formToken });
    expect(locationPath(idp, deleted)).toBe('/admin/clients?done=deleted');
    expect(await idp.issuer.ctx.store.clients.findById(id)).toBeUndefined();
    expect(await authenticates(id, newSecret)).toBe(false);

    const actor = { actor: admin.sub };
    expect(await auditDetails('client.created', id)).toEqual([{ type: 'confidential', party: 'first', ...actor }]);
    expect(await auditDetails('client.updated', id)).toEqual([
      { changed: ['postLogoutRedirectUris', 'redirectUris', 'requireMfa', 'resources'], ...actor },
    ]);
    expect(await auditDetails('client.secret_rotated', id)).toEqual([actor]);
    expect(await auditDetails('client.deleted', id)).toEqual([actor]);
  });

  it('registers a resource, audited', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'resources-admin' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const res = await post(idp, jar, '/admin/resources', {
      form_token: formToken,
      id: 'https://console-api.example.test',
      name: 'Console API',
      scopes: 'read write',
    });
    expect(locationPath(idp, res)).toBe('/admin/clients?done=resource-created');
    expect(await idp.issuer.ctx.store.resources.findById('https://console-api.example.test')).toMatchObject({
      name: 'Console API',
      scopes: ['read', 'write'],
    });
    const [event] = await sql(idp, "select detail from audit_events where type = 'resource.created' order by id desc");
    expect(storedJson(event?.detail)).toEqual({ resource: 'https://console-api.example.test', actor: admin.sub });
  });

  it('answers every refused client or resource form with the reason, and changes nothing', async () => {
    const admin = await makePerson(idp, { admin: true, totp: true, name: 'bad-clients-admin' });
    const { jar, formToken } = await consoleBrowser(idp, admin);
    const valid = {
      form_token: formToken,
      name: 'Bad',
      type: 'public',
      party: 'first',
      redirect_uris: 'https://x.test/cb',
    };
    const forms: [string, Record<string, string>, number, string][] = [
      ['/admin/clients', { ...valid, type: 'robot' }, 400, 'type must be confidential or public'],
      ['/admin/clients', { ...valid, party: 'fourth' }, 400, 'party must be first or third'],
      ['/admin/clients', { ...valid, name: '' }, 400, 'name must be 1–200 characters'],
      ['/admin/clients', { ...valid, redirect_uris: '' }, 400, 'at least one redirect URI is required'],
      ['/admin/clients', { ...valid, redirect_uris: 'javascript:alert(1)' }, 400, 'redirect URI javascript:alert(1)'],
      ['/admin/clients', { ...valid, resource_0: 'https://unknown.test' }, 400, 'is not registered'],
      [
        `/admin/clients/${fx.confidential.id}`,
        { form_token: formToken, redirect_uris: 'http://evil.test/cb' },
        400,
        '',
      ],
      [`/admin/clients/${fx.publicClient.id}/rotate-secret`, { form_token: formToken }, 409, 'has no secret'],
      ['/admin/clients/no-such-client', { form_token: formToken, redirect_uris: 'https://x.test/cb' }, 404, ''],
      ['/admin/clients/no-such-client/delete', { form_token: formToken }, 404, 'There is no such client.'],
      ['/admin/clients/bad%20id/rotate-secret', { form_token: formToken }, 404, 'There is no such client.'],
      ['/admin/resources', { form_token: formToken, id: 'not a uri', name: 'X' }, 400, 'absolute URI'],
      ['/admin/resources', { form_token: formToken, id: 'https://r.test', name: 'X', scopes: 'openid' }, 400, ''],
      ['/admin/resources', { form_token: formToken, id: fx.api.id, name: 'Again' }, 400, 'already exists'],
    ];
    for (const [path, body, status, message] of forms) {
      const before = await digest();
      const res = await post(idp, jar, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      const text = await res.text();
      expect(text).toContain(message);
      if (status === 400) expect(text).toMatch(/class="error" role="alert">[^<]+</);
      expect(text).not.toContain('<script>');
      expect(await digest()).toEqual(before);
    }
    // Refused, the form shows what was typed again.
    const again = await post(idp, jar, '/admin/clients', { ...valid, name: 'Kept <b>name</b>', type: 'robot' });
    expect(await again.text()).toContain('value="Kept &lt;b&gt;name&lt;/b&gt;"');
  });
});
