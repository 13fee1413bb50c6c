// White/blacklist entry matching. Entries: an address (exact), `*@domain` (that domain
// only), or a bare domain (that domain and its subdomains). Case-insensitive.

export function entryMatches(entry: string, sender: string): boolean {
  const e = entry.toLowerCase();
  const s = sender.toLowerCase();
  const at = s.lastIndexOf("@");
  const domain = at === -1 ? s : s.slice(at + 1);
  if (e.startsWith("*@")) return domain === e.slice(2);
  if (e.includes("@")) return s === e;
  return domain === e || domain.endsWith(`.${e}`);
}

export function firstMatch(entries: readonly string[], senders: readonly string[]): string | null {
  for (const e of entries) for (const s of senders) if (s && entryMatches(e, s)) return e;
  return null;
}
