// What every route module gets: the runtime, its store, the quarantine operations, the
// login throttle and the audit writer. One object passed explicitly (no Fastify decorators
// beyond req.principal).
import type { Runtime } from "../../runtime.ts";
import type { QuarantineOps } from "../../quarantine/index.ts";
import { redactValue } from "../../config/redact.ts";
import type { LoginThrottle } from "../../policy/login-throttle.ts";
import type { Store } from "../../store/types.ts";
import type { Principal } from "../auth/principal.ts";

export interface ApiContext {
  runtime: Runtime;
  store: Store;
  quarantine: QuarantineOps;
  limiter: LoginThrottle;
  audit(
    p: Principal,
    action: string,
    target: string,
    tenant: string | null,
    before: unknown,
    after: unknown,
  ): Promise<void>;
}

/**
 * The audit writer: every change made through the API, with who, what, when, before/after —
 * secrets (password hashes, passwords, keys, secrets inside configuration text) redacted.
 */
export function auditWriter(store: Store): ApiContext["audit"] {
  return (p, action, target, tenant, before, after) =>
    store.appendAudit({
      at: new Date(),
      actor: `${p.role}:${p.subject}`,
      action,
      target,
      tenant,
      before: redactValue(before),
      after: redactValue(after),
    });
}
