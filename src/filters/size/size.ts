// Message size limit, per policy: refuses early when the client announces SIZE= over the
// limit (MAIL stage), and checks the real size at DATA. The absolute cap of the node is
// enforced while bytes arrive (message/transaction.ts), not here.
import { z } from "zod";
import type { Filter, FilterResult } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { reply } from "../../message/replies.ts";

const Options = z.object({ max_bytes: z.number().int().positive().default(52_428_800) }).strict();

function tooBig(size: number, max: number): FilterResult {
  return {
    symbols: [{ name: "MESSAGE_TOO_BIG", score: 0, detail: `${size} > ${max}` }],
    action: {
      type: "reject",
      reply: reply("messageTooLarge", { text: `Message size exceeds fixed limit of ${max} bytes` }),
      reason: "message too big",
    },
  };
}

export const sizeFilter: Filter = {
  name: "size",
  group: "sanity",
  stages: ["mail", "data"],
  priority: 10,
  enabledByDefault: true,
  parseOptions: (raw) => parseFilterOptions(Options, raw),
  check(ctx) {
    const { max_bytes: max } = ctx.options as z.infer<typeof Options>;
    if (ctx.stage === "mail") {
      const announced = Number(ctx.envelope.mailFrom?.params.SIZE);
      return Number.isFinite(announced) && announced > max ? tooBig(announced, max) : {};
    }
    const size = ctx.tx?.size ?? 0;
    if (size > max) return tooBig(size, max);
    // Per-recipient limits can differ by tenant: check each recipient's own limit.
    const recipients: Record<string, FilterResult> = {};
    for (const r of ctx.recipients) {
      const own = (r.policy.filters.size?.options as z.infer<typeof Options> | undefined)?.max_bytes ?? max;
      if (size > own) recipients[r.address] = tooBig(size, own);
    }
    return { recipients };
  },
};
