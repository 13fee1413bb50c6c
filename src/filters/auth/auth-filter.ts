// The `auth` filter (DATA stage): verifies SPF, DKIM, ARC, DMARC (and Sender ID when a tenant
// asks) once per message, then gives each recipient symbols, its tenant's DMARC action and an
// Authentication-Results field under its tenant's authserv-id. Trusts only the envelope the
// front end gave us and DNS; never trusts incoming Authentication-Results.
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { authResultsEdits, authResultsValue, resultClauses } from "./auth-results.ts";
import { sharedResolver, type MailauthResolver } from "./dns.ts";
import { authOptionsSchema, type AuthOptions } from "./options.ts";
import { dmarcDecision, resultSymbols } from "./outcome.ts";
import { verifyMessage, type AuthOutcome } from "./verify.ts";

export interface AuthFilterDeps {
  /** DNS for the checks; default: the process's shared resolver for the options' dns servers. */
  resolver?: (opts: AuthOptions) => MailauthResolver;
  /** pct= sampling; default Math.random. */
  random?: () => number;
  /** Verification time; default now (tests of signature expiry). */
  now?: () => Date;
}

export function createAuthFilter(deps: AuthFilterDeps = {}): Filter {
  const resolverFor =
    deps.resolver ??
    ((o: AuthOptions) => sharedResolver({ servers: o.dns.servers, timeoutMs: o.dns.timeout_ms }).resolve);
  const random = deps.random ?? Math.random;
  return {
    name: "auth",
    group: "auth",
    stages: ["data"],
    priority: 30,
    enabledByDefault: true,
    parseOptions: (raw) => parseFilterOptions(authOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      const tx = ctx.tx;
      if (ctx.stage !== "data" || !tx?.spool) return {};
      const base = ctx.options as AuthOptions;
      const optsOf = (p: (typeof ctx.recipients)[number]["policy"]): AuthOptions =>
        (p.filters.auth?.options as AuthOptions | undefined) ?? base;
      if (ctx.envelope.auth && !base.verify_authenticated) return {};
      const senderId = ctx.recipients.some((r) => optsOf(r.policy).sender_id) || base.sender_id;
      const outcome: AuthOutcome = await verifyMessage({
        message: tx.spool.stream(),
        headers: tx.headers,
        ip: ctx.envelope.client.address,
        helo: ctx.envelope.helo,
        mailFrom: ctx.envelope.mailFrom?.address ?? "",
        mta: ctx.envelope.localName,
        resolver: resolverFor(base),
        senderId,
        spfHelo: base.spf_helo,
        minKeyBits: base.min_key_bits,
        ...(deps.now ? { now: deps.now() } : {}),
      });
      const sample = random() * 100;
      const recipients: Record<string, RecipientResult> = {};
      for (const r of ctx.recipients) {
        const o = optsOf(r.policy);
        const decision = dmarcDecision(outcome, o, ctx.envelope, sample);
        const value = authResultsValue(o.authserv_id, resultClauses(outcome, { senderId: o.sender_id }));
        recipients[r.address] = {
          symbols: [...resultSymbols(outcome, o.sender_id), ...decision.symbols],
          headers: authResultsEdits(tx.headers, o.authserv_id, value),
          ...(decision.action ? { action: decision.action } : {}),
        };
      }
      return { recipients };
    },
  };
}
