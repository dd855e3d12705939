/** An API key's name (the same rule as each store's CHECK) and how a key is shown to people. */
import { describe, expect, it } from 'vitest';
import { KEY_NAME_MAX_CHARS, keyLabel, parseKeyName } from '../../src/domain/key-name.js';

describe('parseKeyName', () => {
  it('keeps a name, without its surrounding whitespace', () => {
    expect(parseKeyName('  Support agent \n')).toEqual({ ok: true, name: 'Support agent' });
    expect(parseKeyName('a')).toEqual({ ok: true, name: 'a' });
  });

  it('refuses an empty name, and one of whitespace only', () => {
    for (const text of ['', '   ', '\t\n']) expect(parseKeyName(text)).toEqual({ ok: false, message: 'The key name must not be empty' });
  });

  it('counts characters, not UTF-16 units: 100 emoji pass, 101 characters do not', () => {
    expect(KEY_NAME_MAX_CHARS).toBe(100);
    expect(parseKeyName('x'.repeat(100))).toEqual({ ok: true, name: 'x'.repeat(100) });
    // 100 characters that are 200 UTF-16 units: what both databases' length() counts as 100.
    expect(parseKeyName('🔑'.repeat(100))).toEqual({ ok: true, name: '🔑'.repeat(100) });
    expect(parseKeyName('x'.repeat(101))).toEqual({ ok: false, message: 'The key name must be at most 100 characters' });
    expect(parseKeyName('🔑'.repeat(101))).toEqual({ ok: false, message: 'The key name must be at most 100 characters' });
  });

  it('refuses a control character inside the name (a tab or a newline would break the columns of keys list)', () => {
    const refused = { ok: false, message: 'The key name must not contain control characters (tabs, newlines)' };
    for (const text of ['a\tb', 'a\nb', 'a\u0000b', 'a\u001fb', 'a\u007fb']) expect(parseKeyName(text), JSON.stringify(text)).toEqual(refused);
    // Just outside the control ranges: ordinary text.
    for (const text of ['a b', 'a\u0020b', 'a~b', 'Ünïcødé']) expect(parseKeyName(text).ok, JSON.stringify(text)).toBe(true);
  });
});

describe('keyLabel', () => {
  it('shows the name, the id and the prefix', () => {
    expect(keyLabel({ id: 'key_abc', name: 'Demo agent', displayPrefix: 'rk_test_ab12' })).toBe('Demo agent (key_abc / rk_test_ab12…)');
  });

  it('shows a key made before names by its id and prefix', () => {
    expect(keyLabel({ id: 'key_abc', name: null, displayPrefix: 'rk_test_ab12' })).toBe('key_abc (rk_test_ab12…)');
  });
});
