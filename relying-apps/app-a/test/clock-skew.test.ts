/**
 * App A when its clock and the issuer's disagree past the leeway: the person is told why the
 * sign-in failed and who can mend it, the operator reads the cause in the log. Within the leeway
 * (30 s either way, either clock) see app B's clock-skew tests, which sign in to both apps.
 */
import { describe, expect, it } from 'vitest';
import { createRecordingLogger } from './support/recording-logger.js';
import { signIn, useAppA } from './support/world.js';

/** The page's text as a person reads it (the apostrophe of "server's" is escaped in the HTML). */
const textOf = async (page: Response) => (await page.text()).replaceAll('&#39;', "'");

/**
 * describeClockSkew's words for an issuer `seconds` ahead, give or take 2 s: the clocks are read
 * to the whole second, and the issuer signs a moment before app A checks.
 */
const behindTheIssuerBy = (seconds: number) =>
  new RegExp(`this server's clock is (${[-2, -1, 0, 1, 2].map((d) => seconds + d).join('|')}) s behind the issuer's`);

describe('the issuer’s clock 90 s ahead of app A’s, past the 60 s leeway', () => {
  const log = createRecordingLogger();
  const world = useAppA({ log });

  it('shows a clock_skew page that names the difference and whom to tell, and logs clock.skew', async () => {
    world.issuer.clock.advance(90);
    try {
      const { page } = await signIn(world);
      expect(page.status).toBe(502);
      const text = await textOf(page);
      expect(text).toContain('<h1>Sign-in failed</h1>');
      expect(text).toMatch(behindTheIssuerBy(90));
      expect(text).toMatch(/operator must synchronise the clocks/);
      expect(text).toContain('<code>clock_skew</code>');
      expect(text).not.toContain('Signed in as');

      const skew = log.linesOf('clock.skew').filter((line) => line.level === 'error');
      expect(skew.length).toBeGreaterThanOrEqual(1);
      expect(skew.at(-1)!.fields).toMatchObject({
        toleranceSec: 60,
        likelyCause: expect.stringMatching(behindTheIssuerBy(90)),
      });
      expect(log.linesOf('sign_in.failed').at(-1)!.fields).toMatchObject({ reason: 'clock_skew' });
    } finally {
      world.issuer.clock.advance(-90);
    }
    // The clocks agree again: so do the tokens.
    expect(await textOf((await signIn(world)).page)).toContain('Signed in as Alice Liddell');
  });
});

describe('with APP_A_CLOCK_TOLERANCE_SEC=0 (strict)', () => {
  const log = createRecordingLogger();
  const world = useAppA({ log }, { appEnv: { APP_A_CLOCK_TOLERANCE_SEC: '0' } });

  it('signs in while the clocks agree, and refuses the tokens of an issuer 3 s ahead, logging why', async () => {
    expect(await textOf((await signIn(world)).page)).toContain('Signed in as Alice Liddell');
    world.issuer.clock.advance(3);
    try {
      const { page } = await signIn(world);
      expect(page.status).toBe(502);
      const text = await textOf(page);
      expect(text).toMatch(behindTheIssuerBy(3));
      expect(text).toContain('<code>clock_skew</code>');
      // Under the monitor's 5 s warning threshold, but past this leeway: logged all the same.
      expect(log.linesOf('clock.skew').at(-1)).toMatchObject({
        level: 'error',
        fields: { toleranceSec: 0, likelyCause: expect.stringMatching(behindTheIssuerBy(3)) },
      });
    } finally {
      world.issuer.clock.advance(-3);
    }
  });
});
