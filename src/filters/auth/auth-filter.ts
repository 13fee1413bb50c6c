// The `auth` filter (DATA stage): verifies SPF, DKIM, ARC, DMARC (and Sender ID when a tenant
// asks) once per message, then gives each recipient symbols, its tenant's DMARC action and an
// Authentication-Results field under its tenant's authserv-id, and an ARC set when the tenant
// seals (arc_seal). Trusts only the envelope the front end gave us and DNS; never trusts
// incoming Authentication-Results.
import { readFile } from "node:fs/promises";
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import type { HeaderEdit } from "../../message/types.ts";
import type { Transaction } from "../../message/transaction.ts";
import { parseFilterOptions } from "../options.ts";
import { authResultsEdits, authResultsValue, resultClauses } from "./auth-results.ts";
import { sharedResolver, type MailauthResolver } from "./dns.ts";
import { arcSeal } from "./arc-seal.ts";
import { DkimKeyError } from "./keygen.ts";
import type { KeySource } from "./key-store.ts";
import { authOptionsSchema, DEFAULT_SIGNED_HEADERS, type AuthOptions } from "./options.ts";
import { dmarcDecision, resultSymbols } from "./outcome.ts";
import { verifyMessage, type AuthOutcome } from "./verify.ts";

export interface AuthFilterDeps {
  /** DNS for the checks; default: the process's shared resolver for the options' dns servers. */
  resolver?: (opts: AuthOptions) => MailauthResolver;
  /** Verification time; default now (tests of signature expiry). */
  now?: () => Date;
  /** Keys kept in the store, for arc_seal without a private_key_file. */
  keys?: KeySource | (() => KeySource | null);
}

type SealOptions = NonNullable<AuthOptions["arc_seal"]>;

async function sealKeyPem(seal: SealOptions, keys: KeySource | null): Promise<string> {
  if (seal.private_key_file) {
    return readFile(seal.private_key_file, "utf8").catch(() => {
      throw new DkimKeyError(`ARC key file ${seal.private_key_file} cannot be read`);
    });
  }
  const k = keys ? await keys.get(seal.domain, seal.selector) : null;
  if (!k) throw new DkimKeyError(`no ARC key ${seal.selector}._domainkey.${seal.domain} in the store`);
  return k.pem;
}

/** The ARC set for one Authentication-Results value, as edits that prepend it. */
async function sealEdits(
  tx: Transaction,
  seal: SealOptions,
  authResults: string,
  cv: AuthOutcome["arc"]["result"],
  keys: KeySource | null,
): Promise<HeaderEdit[]> {
  const set = await arcSeal(tx.spool!.stream(), tx.headers, {
    domain: seal.domain,
    selector: seal.selector,
    privateKeyPem: await sealKeyPem(seal, keys),
    authResults,
    cv,
    headers: seal.headers ?? DEFAULT_SIGNED_HEADERS,
  });
  if (!set) return [];
  // Each top edit lands above the previous ones: AAR first, ARC-Seal last (on top).
  return [...set.fields].reverse().map((f) => ({ op: "add", name: f.name, value: f.value, top: true }));
}

export function createAuthFilter(deps: AuthFilterDeps = {}): Filter {
  const resolverFor =
    deps.resolver ??
    ((o: AuthOptions) => sharedResolver({ servers: o.dns.servers, timeoutMs: o.dns.timeout_ms }).resolve);
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
      const recipients: Record<string, RecipientResult> = {};
      // One ARC set per distinct (sealer, Authentication-Results): tenants differ, recipients rarely.
      const seals = new Map<string, Promise<HeaderEdit[]>>();
      const keys = typeof deps.keys === "function" ? deps.keys() : (deps.keys ?? null);
      for (const r of ctx.recipients) {
        const o = optsOf(r.policy);
        const decision = dmarcDecision(outcome, o, ctx.envelope);
        const value = authResultsValue(o.authserv_id, resultClauses(outcome, { senderId: o.sender_id }));
        const headers = authResultsEdits(tx.headers, o.authserv_id, value);
        const symbols = [...resultSymbols(outcome, o.sender_id), ...decision.symbols];
        if (o.arc_seal) {
          const id = JSON.stringify([o.arc_seal, value]);
          if (!seals.has(id)) seals.set(id, sealEdits(tx, o.arc_seal, value, outcome.arc.result, keys));
          const sealed = await seals.get(id)!.then(
            (edits) => ({ edits, error: null }),
            (err: Error) => ({ edits: [] as HeaderEdit[], error: err }),
          );
          // A sealing fault (missing or unusable key) must not hold the verification back.
          if (sealed.error) {
            ctx.log.error({ err: sealed.error.message }, "ARC sealing failed");
            symbols.push({ name: "ARC_SEAL_FAILED", score: 0, detail: sealed.error.message });
          } else if (sealed.edits.length) {
            headers.push(...sealed.edits);
            symbols.push({
              name: "ARC_SEALED",
              score: 0,
              detail: `${o.arc_seal.domain}/${o.arc_seal.selector}`,
            });
          } else symbols.push({ name: "ARC_SEAL_SKIPPED", score: 0, detail: "chain already failed" });
        }
        recipients[r.address] = {
          symbols,
          headers,
          ...(decision.action ? { action: decision.action } : {}),
        };
      }
      return { recipients };
    },
  };
}
