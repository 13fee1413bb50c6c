// Pregreet (early talker) detection on the inbound listener, as Postfix postscreen does: before
// the greeting the client must stay silent — optionally shown a "220-" teaser line and made to
// wait a moment. A client that talks first is a bot that does not wait for replies: it is refused
// (521 5.5.1) and disconnected. A client that passed is not made to wait again for a while.
import { Counter, type Registry } from "prom-client";
import type { Logger } from "pino";
import type { z } from "zod";
import { newReferenceId } from "../message/transaction.ts";
import { reply } from "../message/replies.ts";
import type { SmtpReply } from "../message/types.ts";
import type { pregreetSchema } from "../config/schema.ts";
import type { SmtpInput } from "./input.ts";

export type PregreetSettings = z.infer<typeof pregreetSchema>;

export type PregreetOutcome = "pass" | "cached" | "talked" | "closed";

const MAX_PASSED = 100_000;

/** One per listener set: the pass cache and the metric outlive the connections. */
export class Pregreet {
  private readonly passed = new Map<string, number>();
  private readonly outcomes: Counter<"result">;

  constructor(registry: Registry) {
    const name = "sluice_pregreet_total";
    this.outcomes =
      (registry.getSingleMetric(name) as Counter<"result"> | undefined) ??
      new Counter({
        name,
        help: "Inbound connections by pregreet test result: pass, cached (passed recently), talked (refused), closed",
        labelNames: ["result"],
        registers: [registry],
      });
  }

  /**
   * Run the test on a fresh connection. `write` sends raw lines (the teaser); on "talked" the
   * caller refuses with `refusal` and closes. Nothing the client sent is consumed here.
   */
  async check(
    s: PregreetSettings,
    input: SmtpInput,
    client: string,
    hostname: string,
    write: (line: string) => void,
    log: Logger,
  ): Promise<PregreetOutcome> {
    const now = Date.now();
    const until = this.passed.get(client);
    if (until !== undefined && until > now && input.pending === 0) {
      this.outcomes.inc({ result: "cached" });
      return "cached";
    }
    if (s.teaser) write(`220-${hostname} ESMTP Sluice`);
    const arrived = await input.waitForInput(s.wait_ms);
    if (!arrived) {
      this.remember(client, now + s.pass_ttl_s * 1000);
      this.outcomes.inc({ result: "pass" });
      return "pass";
    }
    if (input.pending === 0) {
      this.outcomes.inc({ result: "closed" });
      return "closed";
    }
    this.passed.delete(client);
    this.outcomes.inc({ result: "talked" });
    log.warn(
      { bytes: input.pending, after_ms: Date.now() - now, action: s.action },
      "client talked before the greeting (pregreet)",
    );
    return "talked";
  }

  private remember(client: string, until: number): void {
    if (this.passed.size >= MAX_PASSED) this.passed.delete(this.passed.keys().next().value!);
    this.passed.delete(client);
    this.passed.set(client, until);
  }
}

/** 521 5.5.1 with a reference id of its own (there is no transaction yet). */
export function pregreetRefusal(): SmtpReply {
  return reply("pregreet", { ref: newReferenceId() });
}
