// Writes the stored copies of one message (quarantine, hold, undelivered) for every front end:
// one entry per tenant, whose envelope holds only that tenant's recipients and whose
// recipients keep their own filter results. A resolved write is durable; a failed one is
// undone, so the caller can answer 4xx and the client's retry finds nothing half-stored.
import type { Logger } from "pino";
import { messageBuffer } from "../message/rewrite.ts";
import type { Transaction } from "../message/transaction.ts";
import type { OutcomeGroup, RecipientVerdict } from "../pipeline/session.ts";
import type { HeaderEdit, SymbolHit } from "../message/types.ts";
import type { Store } from "../store/types.ts";

/** The one tenant a stored copy for this recipient belongs to (PolicyResolver.ownerOf). */
export type OwnerOf = (recipient: string, kind: "stored" | "hold") => string | null;

export interface StoredCopy {
  kind: "quarantine" | "hold";
  id: string;
  tenant: string | null;
  recipients: string[];
}

export class StoreUnavailableError extends Error {
  constructor() {
    super("no store configured: cannot quarantine or hold");
    this.name = "StoreUnavailableError";
  }
}

/**
 * Entry ids derived from the message's reference id, so every copy is found by it: quarantine
 * `ref`, `ref-Q2` …; holds `ref-H1` …; undelivered copies kept after a partial failure `ref-F` ….
 */
export class CopyIds {
  private readonly ref: string;
  private readonly used = new Map<string, number>();

  constructor(ref: string) {
    this.ref = ref;
  }

  next(kind: "quarantine" | "hold" | "undelivered"): string {
    const n = (this.used.get(kind) ?? 0) + 1;
    this.used.set(kind, n);
    if (kind === "hold") return `${this.ref}-H${n}`;
    const base = kind === "quarantine" ? this.ref : `${this.ref}-F`;
    return n === 1 ? base : `${this.ref}-${kind === "quarantine" ? "Q" : "F"}${n}`;
  }
}

/** Recipients grouped by owning tenant, in first-seen order. */
export function byTenant<T extends { address: string }>(
  items: readonly T[],
  tenantOf: (address: string) => string | null,
): [string | null, T[]][] {
  const out = new Map<string | null, T[]>();
  for (const it of items) {
    const t = tenantOf(it.address);
    out.set(t, [...(out.get(t) ?? []), it]);
  }
  return [...out];
}

export interface CopyContext {
  store: Store | null;
  owner: OwnerOf;
  ids: CopyIds;
  /** Each recipient's filter results (the pipeline's verdicts). */
  verdicts: readonly RecipientVerdict[];
  /** Edits every copy carries (our Received field on the proxy; none in the milter). */
  trace: readonly HeaderEdit[];
  log: Logger;
}

/** Stores every quarantine and hold group; on any failure removes what it wrote and throws. */
export async function storeCopies(
  tx: Transaction,
  groups: readonly OutcomeGroup[],
  c: CopyContext,
): Promise<StoredCopy[]> {
  const quarantined = groups
    .filter((g) => g.disposition === "quarantine")
    .flatMap((g) => g.recipients.map((address) => ({ address, reason: g.reason ?? "policy" })));
  const held = groups.filter((g) => g.disposition === "hold");
  if (!quarantined.length && !held.length) return [];
  const store = c.store;
  if (!store) throw new StoreUnavailableError();
  const written: StoredCopy[] = [];
  try {
    if (quarantined.length) written.push(...(await keepCopies(tx, quarantined, "quarantine", c)));
    for (const g of held) {
      const rcpts = g.recipients.map((address) => ({ address }));
      for (const [tenant, list] of byTenant(rcpts, (a) => c.owner(a, "hold"))) {
        const id = c.ids.next("hold");
        const addresses = list.map((r) => r.address);
        await store.putHold({
          id,
          tenant,
          envelope: envelopeFor(tx, addresses),
          reason: g.reason ?? "held by policy",
          releaseAt: new Date(Date.now() + (g.holdMinutes ?? 5) * 60_000),
          message: await messageBuffer(tx, [...c.trace, ...g.edits]),
        });
        written.push({ kind: "hold", id, tenant, recipients: addresses });
        c.log.info({ id: tx.id, hold: id, tenant, recipients: addresses }, "held");
      }
    }
  } catch (err) {
    await discardCopies(store, written);
    throw err;
  }
  return written;
}

/**
 * Quarantine entries (one per tenant) for these recipients, each with its own reason: the
 * quarantine outcome, or (kind "undelivered") the next hop's refusal after a partial delivery.
 */
export async function keepCopies(
  tx: Transaction,
  recipients: readonly { address: string; reason: string }[],
  kind: "quarantine" | "undelivered",
  c: CopyContext,
): Promise<StoredCopy[]> {
  const store = c.store;
  if (!store) throw new StoreUnavailableError();
  const written: StoredCopy[] = [];
  try {
    for (const [tenant, list] of byTenant(recipients, (a) => c.owner(a, "stored"))) {
      const id = c.ids.next(kind);
      const addresses = list.map((r) => r.address);
      const own = list.map((r) => {
        const v = c.verdicts.find((x) => x.address.toLowerCase() === r.address.toLowerCase());
        return { ...r, score: v?.score ?? 0, symbols: v?.symbols ?? [] };
      });
      await store.putQuarantine({
        id,
        tenant,
        envelope: envelopeFor(tx, addresses),
        score: Math.max(0, ...own.map((r) => r.score)),
        symbols: union(own.map((r) => r.symbols)),
        subject: tx.headers.decoded("Subject"),
        message: await messageBuffer(tx, c.trace),
        recipients: own,
      });
      written.push({ kind: "quarantine", id, tenant, recipients: addresses });
      c.log.info({ id: tx.id, quarantine: id, tenant, recipients: addresses }, "quarantined");
    }
  } catch (err) {
    await discardCopies(store, written);
    throw err;
  }
  return written;
}

/** Undo: used when the message as a whole is refused after copies were written. */
export async function discardCopies(store: Store | null, copies: readonly StoredCopy[]): Promise<void> {
  if (!store) return;
  for (const w of copies) {
    await (w.kind === "quarantine" ? store.deleteQuarantine(w.id) : store.deleteHold(w.id)).catch(
      () => undefined,
    );
  }
}

/** The quarantine id that holds a recipient's copy (for notices), or null. */
export function quarantineIdOf(copies: readonly StoredCopy[]): (address: string) => string | null {
  return (address) =>
    copies.find((c) => c.kind === "quarantine" && c.recipients.includes(address.toLowerCase()))?.id ?? null;
}

/** The transaction's envelope narrowed to these recipients (their ESMTP parameters kept). */
function envelopeFor(tx: Transaction, addresses: readonly string[]) {
  const want = new Set(addresses.map((a) => a.toLowerCase()));
  return {
    ...tx.envelope,
    recipients: tx.envelope.recipients.filter((r) => want.has(r.address.toLowerCase())),
  };
}

/** The symbols of several recipients, each name once (highest score kept). */
function union(lists: readonly SymbolHit[][]): SymbolHit[] {
  const by = new Map<string, SymbolHit>();
  for (const s of lists.flat()) {
    const have = by.get(s.name);
    if (!have || s.score > have.score) by.set(s.name, s);
  }
  return [...by.values()];
}
