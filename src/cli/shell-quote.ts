/**
 * A word as a POSIX shell reads it back: printed hints (`resume with ...`,
 * `inspect with ...`) must survive copy and paste for paths with spaces or
 * quotes.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
