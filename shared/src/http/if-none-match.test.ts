import { describe, expect, it } from 'vitest';
import { matchesIfNoneMatch } from './if-none-match.js';

const ETAG = '"abc"';

describe('matchesIfNoneMatch (RFC 9110 §13.1.2)', () => {
  it.each([
    ['the same tag', '"abc"'],
    ['the same tag, weak (weak comparison, §8.8.3.2)', 'W/"abc"'],
    ['a list naming it', '"other", "abc"'],
    ['a list naming it weakly, without spaces', '"x",W/"abc"'],
    ['a list with empty elements and tabs', ',\t"x" ,, "abc"'],
    ['*', '*'],
    ['* with whitespace around it', ' * '],
    ['a list after an element that is no entity-tag', 'junk, "abc"'],
  ])('matches %s', (_, field) => {
    expect(matchesIfNoneMatch(field, ETAG)).toBe(true);
  });

  it.each([
    ['no field', undefined],
    ['an empty field', ''],
    ['another tag', '"abd"'],
    ['the tag without its quotes', 'abc'],
    ['a lower-case weak prefix (the prefix is case-sensitive)', 'w/"abc"'],
    ['a tag that only contains it', '"xabcx"'],
    ['a tag with a comma that splitting on commas would cut into it', '"x,"abc"'],
    ['an unterminated tag', '"abc'],
    ['* inside a list', '"x", *'],
  ])('does not match %s', (_, field) => {
    expect(matchesIfNoneMatch(field, ETAG)).toBe(false);
  });

  it('compares weakly when the current tag is itself weak', () => {
    expect(matchesIfNoneMatch('"abc"', 'W/"abc"')).toBe(true);
    expect(matchesIfNoneMatch('W/"abc"', 'W/"abc"')).toBe(true);
  });
});
