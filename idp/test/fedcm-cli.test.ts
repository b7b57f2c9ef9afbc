/**
 * Registering a client's FedCM origins, privacy policy and terms from the CLI, run as an operator
 * runs it (a process of its own on the running issuer's database): what is stored, what the FedCM
 * endpoints then answer, and every malformed origin refused with its reason, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { tableDigests } from './support/db-digest.js';
import { registerWebClient, useIssuer } from './support/fixture.js';
import { runCli } from './support/issuer-process.js';

const { idp, fx } = useIssuer();
const cli = (...args: string[]) => runCli(idp.database, args, { TESSERA_ISSUER: idp.url });
const clientMetadata = (id: string) => fetch(new URL(`/fedcm/client-metadata?client_id=${id}`, idp.url));

// Each call starts a TypeScript process; on a loaded two-core machine that can take seconds.
describe('the CLI on FedCM', { timeout: 60_000 }, () => {
  it('creates a client with FedCM origins, policy and terms; update replaces them; --no-fedcm ends FedCM', async () => {
    const created = await cli(
      'clients',
      'create',
      '--id',
      'cli-fedcm',
      '--name',
      'CLI FedCM',
      '--type',
      'public',
      '--redirect-uri',
      fx.redirectUri,
      '--fedcm-origin',
      'http://app.localhost:4001',
      '--fedcm-origin',
      'https://app.example.test',
      '--policy-uri',
      'https://app.example.test/privacy',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(await idp.issuer.ctx.store.clients.findById('cli-fedcm')).toMatchObject({
      fedcmOrigins: ['http://app.localhost:4001', 'https://app.example.test'],
      policyUri: 'https://app.example.test/privacy',
      tosUri: null,
    });
    expect(await (await clientMetadata('cli-fedcm')).json()).toEqual({
      privacy_policy_url: 'https://app.example.test/privacy',
    });

    const updated = await cli(
      'clients',
      'update',
      '--id',
      'cli-fedcm',
      '--fedcm-origin',
      'https://other.example.test:8443',
      '--tos-uri',
      'https://app.example.test/terms',
      '--policy-uri',
      '',
      '--json',
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      client_id: 'cli-fedcm',
      fedcm_origins: ['https://other.example.test:8443'],
      policy_uri: null,
      tos_uri: 'https://app.example.test/terms',
    });
    expect(await (await clientMetadata('cli-fedcm')).json()).toEqual({
      terms_of_service_url: 'https://app.example.test/terms',
    });

    const off = await cli('clients', 'update', '--id', 'cli-fedcm', '--no-fedcm');
    expect(off.code, off.stderr).toBe(0);
    expect((await idp.issuer.ctx.store.clients.findById('cli-fedcm'))?.fedcmOrigins).toEqual([]);
    expect(await (await clientMetadata('cli-fedcm')).json()).toEqual({
      error: 'invalid_client',
      error_description: expect.any(String),
    });
  });

  it('refuses an origin not scheme://host[:port], or not https off a loopback host, changing nothing', async () => {
    await registerWebClient(idp, fx, {
      id: 'cli-fedcm-bad',
      name: 'CLI Bad',
      secret: 'cli-fedcm-bad-secret-0000000000000000000',
    });
    const cases: [string, RegExp][] = [
      [
        'https://app.example.test/',
        /FedCM origin https:\/\/app\.example\.test\/ must be scheme:\/\/host\[:port\] only/,
      ],
      ['https://app.example.test/callback', /must be scheme:\/\/host\[:port\] only/],
      ['https://app.example.test?x=1', /must be scheme:\/\/host\[:port\] only/],
      ['https://user@app.example.test', /must be scheme:\/\/host\[:port\] only/],
      ['https://APP.example.test', /must be scheme:\/\/host\[:port\] only/],
      ['https://app.example.test:443', /must be scheme:\/\/host\[:port\] only/],
      ['http://app.example.test', /must use https unless the host is localhost, \*\.localhost or loopback/],
      ['ftp://app.example.test', /must use https \(or http on a loopback host\)/],
      ['app.example.test', /is not an origin/],
    ];
    for (const [origin, message] of cases) {
      const before = await tableDigests(idp.issuer.ctx.store.database);
      const run = await cli('clients', 'update', '--id', 'cli-fedcm-bad', '--fedcm-origin', origin);
      expect(run.code, origin).toBe(1);
      expect(run.stderr, origin).toMatch(message);
      expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
    }
    const both = await cli(
      'clients',
      'update',
      '--id',
      'cli-fedcm-bad',
      '--fedcm-origin',
      'https://a.test',
      '--no-fedcm',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^--fedcm-origin and --no-fedcm contradict each other\n/);
    const policy = await cli('clients', 'update', '--id', 'cli-fedcm-bad', '--policy-uri', 'http://app.example.test/p');
    expect(policy.code).toBe(1);
    expect(policy.stderr).toMatch(/policy_uri http:\/\/app\.example\.test\/p must use https/);
    expect((await idp.issuer.ctx.store.clients.findById('cli-fedcm-bad'))?.fedcmOrigins).toEqual([]);
  });
});
