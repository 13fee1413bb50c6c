// Per-user white and blacklists. At RCPT the envelope sender is checked; at DATA the From
// header too. Whitelisted: spam filters are skipped for that recipient. Blacklisted: the
// policy's action (reject, or quarantine). Lists longer than the tenant limit are cut with a
// warning symbol (the limit is enforced on write; this covers directories like LDAP).
import { z } from "zod";
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { firstMatch } from "./match.ts";
import { reply } from "../../message/replies.ts";

const Options = z.object({}).strict();

function fromHeaderAddresses(value: string | null): string[] {
  if (!value) return [];
  return [...value.matchAll(/<?([^\s<>,;"]+@[^\s<>,;"]+)>?/g)].map((m) => m[1]!.toLowerCase());
}

export const listsFilter: Filter = {
  name: "lists",
  group: "lists",
  stages: ["rcpt", "data"],
  priority: 5,
  enabledByDefault: true,
  parseOptions: (raw) => parseFilterOptions(Options, raw),
  check(ctx) {
    const senders = [ctx.envelope.mailFrom?.address ?? ""];
    if (ctx.stage === "data") senders.push(...fromHeaderAddresses(ctx.tx!.headers.get("From")));
    const recipients: Record<string, RecipientResult> = {};
    for (const r of ctx.recipients) {
      const { whitelist, blacklist, maxEntries, blacklistAction } = r.policy.lists;
      const out: RecipientResult = { symbols: [] };
      if (whitelist.length > maxEntries || blacklist.length > maxEntries) {
        out.symbols!.push({ name: "USER_LIST_TRUNCATED", score: 0, detail: `limit ${maxEntries}` });
      }
      const black = firstMatch(blacklist.slice(0, maxEntries), senders);
      const white = firstMatch(whitelist.slice(0, maxEntries), senders);
      if (black) {
        out.symbols!.push({ name: "USER_BLACKLIST", score: 0, detail: black });
        out.action =
          blacklistAction === "reject"
            ? {
                type: "reject",
                reply: reply("senderBlocked"),
                reason: `blacklisted (${black})`,
              }
            : { type: "quarantine", reason: `blacklisted (${black})` };
      } else if (white) {
        out.symbols!.push({ name: "USER_WHITELIST", score: 0, detail: white });
        out.skip = [{ group: "spam", reason: `sender whitelisted (${white})` }];
      }
      recipients[r.address] = out;
    }
    const result: FilterResult = { recipients };
    return result;
  },
};
