/**
 * `npm run idp -- users create` sets a password the way the account page does: the new-password
 * policy refuses a weak one from a pipe with its reason, and at a terminal asks again.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, freshDatabase, withStore } from './support/databases.js';

const IDP_DIR = fileURLToPath(new URL('..', import.meta.url));
const CLI = ['--conditions=@tessera/source', '--import', 'tsx', 'src/cli/main.ts'];
let database: string;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(() => dropDatabase(database));

const env = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TESSERA_DATABASE: database });

/** The CLI with its password piped in, as a script runs it. */
function piped(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: IDP_DIR, env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/**
 * The CLI at a terminal (a pseudo-terminal from util-linux `script`): each answer is typed once
 * the question it answers has been printed, as a person would.
 */
function atTerminal(args: string[], answers: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const command = [process.execPath, ...CLI, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: IDP_DIR, env: env() });
    let output = '';
    let asked = 0;
    child.stdout.on('data', (c) => {
      output += c;
      const questions = output.match(/(New password for [^:]+|Type it again): /g)?.length ?? 0;
      while (asked < questions && asked < answers.length) child.stdin.write(`${answers[asked++]}\r`);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const expectNobodyAs = (email: string) =>
  withStore(database, async (store) => {
    expect(await store.users.findByEmail(email)).toBeUndefined();
  });

// Each call starts a TypeScript process; on a loaded two-core machine that takes seconds.
describe('users create and the new-password policy', { timeout: 60_000 }, () => {
  it('refuses a short password from a pipe with the reason, and creates nobody', async () => {
    const r = await piped(['users', 'create', '--email', 'dan@example.com', '--name', 'Dan'], 'fourteen chars\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: Choose a password of at least 15 characters. ' +
        'A few unrelated words make a long password that is easy to remember.\n',
    );
    await expectNobodyAs('dan@example.com');
  });

  it('refuses a common password and the email address as the password', async () => {
    const common = await piped(
      ['users', 'create', '--email', 'dan@example.com', '--name', 'Dan'],
      'passwordpassword\n',
    );
    expect(common.code).toBe(1);
    expect(common.stderr).toContain('too common');
    const own = await piped(
      ['users', 'create', '--email', 'dan.daly@example.com', '--name', 'Dan'],
      'Dan.Daly@example.com\n',
    );
    expect(own.code).toBe(1);
    expect(own.stderr).toContain('your email address or your name');
    await expectNobodyAs('dan@example.com');
    await expectNobodyAs('dan.daly@example.com');
  });

  it('asks again at a terminal after a weak password or two that differ, then creates the user', async () => {
    const r = await atTerminal(
      ['users', 'create', '--email', 'erin@example.com', '--name', 'Erin'],
      [
        'short',
        'lantern orchard quietly',
        'lantern orchard quietIy',
        'lantern orchard quietly',
        'lantern orchard quietly',
      ],
    );
    expect(r.output).toContain('at least 15 characters');
    expect(r.output).toContain('The two passwords differ.');
    expect(r.output).toMatch(/created user erin@example\.com/);
    expect(r.code).toBe(0);
    await withStore(database, async (store) => {
      expect((await store.users.findByEmail('erin@example.com'))?.displayName).toBe('Erin');
    });
  });

  it('gives up at a terminal after three refused tries, creating nobody', async () => {
    const r = await atTerminal(
      ['users', 'create', '--email', 'finn@example.com', '--name', 'Finn'],
      ['short', 'passwordpassword', 'finn@example.com'],
    );
    expect(r.code).toBe(1);
    expect(r.output).toContain('error: no password chosen: A password cannot be your email address or your name.');
    await expectNobodyAs('finn@example.com');
  });
});
