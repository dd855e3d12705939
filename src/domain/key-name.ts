/**
 * An API key's name: what operators call a key ("Support agent", "Nightly reconciler") wherever
 * the dashboard or the CLI shows one. The same rule is each store's CHECK (migration 009).
 */

export const KEY_NAME_MAX_CHARS = 100;

// A tab or a newline would break `keys list`'s columns; no other control character is text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Surrounding whitespace is dropped; the rest must be 1 to 100 characters with no control character. */
export function parseKeyName(text: string): { ok: true; name: string } | { ok: false; message: string } {
  const name = text.trim();
  // Characters, not UTF-16 units: what both databases' length() counts.
  const chars = Array.from(name).length;
  if (chars === 0) return { ok: false, message: 'The key name must not be empty' };
  if (chars > KEY_NAME_MAX_CHARS) return { ok: false, message: `The key name must be at most ${KEY_NAME_MAX_CHARS} characters` };
  if (CONTROL.test(name)) return { ok: false, message: 'The key name must not contain control characters (tabs, newlines)' };
  return { ok: true, name };
}

/** How a key is shown to people: `NAME (key_… / rk_live_abcd…)`; a key made before names, by its id and prefix. */
export function keyLabel(key: { id: string; name: string | null; displayPrefix: string }): string {
  return key.name === null ? `${key.id} (${key.displayPrefix}…)` : `${key.name} (${key.id} / ${key.displayPrefix}…)`;
}
