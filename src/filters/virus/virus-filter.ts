// The "virus" filter: scans the raw message with clamd and applies the attachment policy, then
// builds each recipient's result from that recipient's own (tenant) options: reject 554 5.7.1
// with the tenant's text, or quarantine; scanner down → 451 4.7.1 or a header, by policy.
import type { Action, Filter, FilterContext, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import { ClamdClient, type ScanOutcome } from "./clamd-client.ts";
import { ClamdUnavailableError } from "./errors.ts";
import { inspectAttachments, judgeAttachments, type AttachmentFacts } from "./attachments.ts";
import { parseVirusOptions, type VirusOptions } from "./options.ts";
import { virusMetrics, type VirusMetrics } from "./metrics.ts";
import { reply } from "../../message/replies.ts";

export const SCAN_HEADER = "X-Sluice-Virus-Scan";

type Scan = ScanOutcome | { status: "unavailable"; error: string } | { status: "skipped-size"; size: number };

export interface VirusFilterDeps {
  metrics?: VirusMetrics;
}

export function virusFilter(deps: VirusFilterDeps = {}): Filter & { metrics: VirusMetrics; close(): void } {
  const metrics = deps.metrics ?? virusMetrics();
  const clients = new Map<string, ClamdClient>();
  const clientFor = (o: VirusOptions): ClamdClient => {
    const key = JSON.stringify([o.clamd, o.timeout_ms, o.chunk_bytes]);
    let c = clients.get(key);
    if (!c) {
      c = new ClamdClient({ endpoints: o.clamd, timeoutMs: o.timeout_ms, chunkBytes: o.chunk_bytes });
      clients.set(key, c);
    }
    return c;
  };

  async function scan(ctx: FilterContext, o: VirusOptions): Promise<Scan> {
    const spool = ctx.tx!.spool!;
    if (spool.size > o.max_bytes) {
      metrics.scans.inc({ result: "too-large" });
      return { status: "skipped-size", size: spool.size };
    }
    const stop = metrics.scanSeconds.startTimer();
    try {
      const r = await clientFor(o).scan(() => spool.stream(), ctx.signal);
      metrics.scans.inc({ result: r.status });
      return r;
    } catch (err) {
      if (!(err instanceof ClamdUnavailableError)) throw err;
      metrics.scans.inc({ result: "unavailable" });
      ctx.log.warn({ id: ctx.tx?.id, err: err.message }, "virus scanner unavailable");
      return { status: "unavailable", error: err.message };
    } finally {
      stop();
    }
  }

  return {
    name: "virus",
    group: "virus",
    stages: ["data"],
    priority: 20,
    enabledByDefault: false,
    metrics,
    parseOptions: (raw) => parseVirusOptions(raw) as unknown as Record<string, unknown>,
    async check(ctx) {
      if (!ctx.tx?.spool) return {};
      const o = ctx.options as unknown as VirusOptions;
      const perRcpt = ctx.recipients.map((r) => optionsOf(r.policy.filters.virus?.options) ?? o);
      const inspect = perRcpt.some((x) => x.attachments.enabled);
      const [result, facts] = await Promise.all([
        scan(ctx, o),
        inspect
          ? inspectAttachments(ctx.tx.spool.stream(), {
              maxInspectBytes: Math.max(...perRcpt.map((x) => x.attachments.max_inspect_bytes)),
              depthCap: Math.max(...perRcpt.map((x) => x.attachments.archives.max_depth)),
              budgetBytes: Math.max(...perRcpt.map((x) => x.attachments.archives.max_expanded_bytes)),
            })
          : Promise.resolve([] as AttachmentFacts[]),
      ]);
      const out: FilterResult = { recipients: {} };
      ctx.recipients.forEach((r, i) => {
        const res = recipientResult(result, facts, perRcpt[i]!);
        if (result.status === "unavailable") {
          metrics.unavailable.inc({ outcome: perRcpt[i]!.on_unavailable });
        }
        out.recipients![r.address] = res;
      });
      return out;
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}

function optionsOf(x: Record<string, unknown> | undefined): VirusOptions | null {
  return x && "compiled" in x ? (x as unknown as VirusOptions) : null;
}

/** One recipient's result from the shared scan and attachment facts under its own options. */
export function recipientResult(
  scan: Scan,
  facts: readonly AttachmentFacts[],
  o: VirusOptions,
): RecipientResult {
  const symbols: SymbolHit[] = [];
  const headers: RecipientResult["headers"] = [];
  let action: Action | undefined;
  const strongest = (a: Action) => {
    if (!action || rank(a) > rank(action)) action = a;
  };
  switch (scan.status) {
    case "infected": {
      const virus = scan.signatures.join(", ").replace(/[\u0000-\u001f\u007f]+/g, " ");
      symbols.push({ name: "CLAMAV_VIRUS", score: 0, detail: virus });
      strongest(
        o.action === "reject"
          ? {
              type: "reject",
              reply: reply("virusRejected", { text: o.compiled.rejectText.render({ virus }) }),
              reason: `virus ${virus}`,
            }
          : { type: "quarantine", reason: `virus ${virus}` },
      );
      break;
    }
    case "unavailable":
      symbols.push({ name: "CLAMAV_UNAVAILABLE", score: 0, detail: scan.error });
      if (o.on_unavailable === "header") headers.push({ op: "add", name: SCAN_HEADER, value: "unavailable" });
      else
        strongest({
          type: "tempfail",
          reply: reply("scannerUnavailable"),
          reason: "virus scanner unavailable",
        });
      break;
    case "too-large":
    case "skipped-size":
      symbols.push({
        name: "CLAMAV_SKIPPED_SIZE",
        score: 0,
        detail:
          scan.status === "too-large" ? "refused by clamd StreamMaxLength" : `${scan.size} > ${o.max_bytes}`,
      });
      if (o.on_oversize === "header") headers.push({ op: "add", name: SCAN_HEADER, value: "skipped (size)" });
      if (o.on_oversize === "tempfail") {
        strongest({
          type: "tempfail",
          reply: reply("tooLargeToScan"),
          reason: "too large to scan",
        });
      }
      break;
    case "clean":
      break;
  }
  for (const f of judgeAttachments(facts, o)) {
    symbols.push({ name: f.symbol, score: 0, detail: `${f.attachment}: ${f.reason}` });
    if (f.verdict === "note") continue;
    const type = f.verdict === "quarantine" ? "quarantine" : (o.attachments.action ?? o.action);
    strongest(
      type === "reject"
        ? {
            type: "reject",
            reply: {
              code: 554,
              enhanced: "5.7.1",
              text: o.compiled.blockText.render({ attachment: f.attachment, reason: f.reason }),
            },
            reason: `${f.symbol} ${f.attachment}`,
          }
        : { type: "quarantine", reason: `${f.symbol} ${f.attachment}` },
    );
  }
  return { symbols, ...(action ? { action } : {}), ...(headers.length ? { headers } : {}) };
}

function rank(a: Action): number {
  return ["quarantine", "tempfail", "reject"].indexOf(a.type);
}
