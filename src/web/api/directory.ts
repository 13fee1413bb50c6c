// Directory operations for operators: forget cached directory answers on this node (one
// user's addresses, or everything), so an LDAP change shows at once. `sluice directory
// flush` logs in and calls this; no caller is trusted for its address alone.
import type { FastifyInstance } from "fastify";
import { CachedDirectory } from "../../policy/cached-directory.ts";
import { OverrideDirectory } from "../../policy/override-directory.ts";
import { requireRole } from "../auth/principal.ts";
import type { ApiContext } from "./context.ts";
import { obj, str } from "./schema.ts";

export function directoryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { address?: string } }>(
    "/api/directory/flush",
    {
      schema: {
        summary: "Forget this node's cached directory answers (one user, or all)",
        tags: ["directory"],
        body: obj({ address: str({ minLength: 3, maxLength: 320, pattern: "^[^\\s@<>]+@[^\\s@<>]+$" }) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const address = req.body?.address;
      const d = ctx.runtime.directory;
      // Users' overrides are cached too (briefly); forgetting them costs nothing.
      const cached = d instanceof CachedDirectory || (d instanceof OverrideDirectory && d.cached);
      const flushed = d instanceof OverrideDirectory || d instanceof CachedDirectory ? d.flush(address) : 0;
      if (!cached) return { cached: false, flushed: 0 };
      await ctx.audit(p, "directory.flush", address ?? "*", null, null, { flushed });
      return { cached: true, flushed };
    },
  );
}
