// Turns one LDAP entry into a Sluice User through the configured attribute map, checking every
// value: malformed values are dropped with a warning rather than trusted. Lists are kept whole;
// the lists filter cuts them to the tenant limit and adds USER_LIST_TRUNCATED.
import type { Entry } from "ldapts";
import { listEntry } from "../../config/schema.ts";
import type { Thresholds, User } from "../../message/types.ts";
import type { AttributeMap } from "./config.ts";

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export interface MappedUser {
  user: User;
  /** Values that were present but unusable, for the log. */
  warnings: string[];
}

/** The attributes to request in a search, without duplicates or unmapped fields. */
export function requestedAttributes(map: AttributeMap): string[] {
  return [...new Set(Object.values(map).filter((a) => a !== ""))];
}

export function entryToUser(entry: Entry, map: AttributeMap, tenant: string): MappedUser | null {
  const byName = new Map<string, string[]>();
  for (const [k, v] of Object.entries(entry)) {
    if (k === "dn") continue;
    const values = (Array.isArray(v) ? v : [v]).map((x) =>
      Buffer.isBuffer(x) ? x.toString("utf8") : String(x),
    );
    byName.set(k.toLowerCase(), values);
  }
  const get = (attr: string): string[] => (attr ? (byName.get(attr.toLowerCase()) ?? []) : []);
  const one = (attr: string): string | undefined => get(attr)[0]?.trim();
  const warnings: string[] = [];

  const addresses = (attr: string): string[] => {
    const out: string[] = [];
    for (const raw of get(attr)) {
      const a = raw.trim().toLowerCase();
      if (ADDRESS.test(a)) out.push(a);
      else warnings.push(`${attr}: not a mail address: ${JSON.stringify(raw)}`);
    }
    return out;
  };
  const primary = addresses(map.address);
  if (primary.length === 0) return null;
  const aliases = [...primary.slice(1), ...addresses(map.aliases)].filter((a) => a !== primary[0]);

  const list = (attr: string): string[] => {
    const out: string[] = [];
    for (const raw of get(attr)) {
      const r = listEntry.safeParse(raw.trim());
      if (r.success) out.push(r.data);
      else warnings.push(`${attr}: not an address, domain or *@domain: ${JSON.stringify(raw)}`);
    }
    return out;
  };

  let spamFilter: boolean | null = null;
  const sf = one(map.spam_filter)?.toUpperCase();
  if (sf === "TRUE") spamFilter = true;
  else if (sf === "FALSE") spamFilter = false;
  else if (sf !== undefined)
    warnings.push(`${map.spam_filter}: expected TRUE or FALSE, got ${JSON.stringify(sf)}`);

  let quarantine: boolean | null = null;
  const q = one(map.quarantine)?.toUpperCase();
  if (q === "TRUE") quarantine = true;
  else if (q === "FALSE") quarantine = false;
  else if (q !== undefined)
    warnings.push(`${map.quarantine}: expected TRUE or FALSE, got ${JSON.stringify(q)}`);

  const lang = one(map.language)?.toLowerCase();
  const language = lang === "en" || lang === "ja" ? lang : null;
  if (lang !== undefined && language === null) warnings.push(`${map.language}: expected en or ja`);

  const thresholds: Partial<Thresholds> = {};
  const fields = [
    ["tag", map.tag_threshold],
    ["quarantine", map.quarantine_threshold],
    ["reject", map.reject_threshold],
  ] as const;
  for (const [field, attr] of fields) {
    const raw = one(attr);
    if (raw === undefined) continue;
    const n = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (Number.isFinite(n)) thresholds[field] = n;
    else warnings.push(`${attr}: not a number: ${JSON.stringify(raw)}`);
  }

  const rateLimits: NonNullable<User["rateLimits"]> = {};
  const rates = [
    ["messagesPerHour", map.rate_messages_per_hour],
    ["recipientsPerHour", map.rate_recipients_per_hour],
  ] as const;
  for (const [field, attr] of rates) {
    const raw = one(attr);
    if (raw === undefined) continue;
    if (/^\d{1,9}$/.test(raw)) rateLimits[field] = Number(raw);
    else warnings.push(`${attr}: not a whole number: ${JSON.stringify(raw)}`);
  }

  return {
    user: {
      // A server can send an attribute named "dn" that replaces the entry's DN string (found by
      // fuzzing): the id is always a non-empty string.
      id: one(map.id) || (typeof entry.dn === "string" && entry.dn) || primary[0]!,
      tenant,
      address: primary[0]!,
      aliases: [...new Set(aliases)],
      language,
      spamFilter,
      thresholds,
      whitelist: list(map.whitelist),
      blacklist: list(map.blacklist),
      sendAs: addresses(map.send_as),
      quarantine,
      ...(Object.keys(rateLimits).length ? { rateLimits } : {}),
    },
    warnings,
  };
}
