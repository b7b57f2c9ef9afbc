/** Reads a password from standard input: hidden at a terminal, else the first line of a pipe. Never from argv. */
import type { PasswordRefusal } from '../protocol/password-policy.js';

export async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const chunk of stdin) data += chunk;
    return data.split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.setRawMode(false);
      stdin.off('data', onData);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** How many times a person at a terminal may choose again before the command gives up. */
const NEW_PASSWORD_TRIES = 3;

/**
 * A new password for `users create`: from a pipe, the first line as it is (registration applies
 * the policy and refuses it); at a terminal, asked twice and checked against the policy, the
 * reason shown and the question asked again, so an operator need not start over.
 */
export async function readNewPassword(
  email: string,
  check: (password: string) => PasswordRefusal | undefined,
): Promise<string> {
  if (!process.stdin.isTTY) return readPassword('');
  for (let tries = 1; ; tries++) {
    const password = await readPassword(`New password for ${email}: `);
    const refusal = check(password);
    const problem =
      refusal?.reason ??
      ((await readPassword('Type it again: ')) === password ? undefined : 'The two passwords differ.');
    if (!problem) return password;
    if (tries >= NEW_PASSWORD_TRIES) throw new PasswordNotChosenError(problem);
    process.stderr.write(`${problem}\n`);
  }
}

export class PasswordNotChosenError extends Error {
  constructor(reason: string) {
    super(`no password chosen: ${reason}`);
    this.name = 'PasswordNotChosenError';
  }
}
