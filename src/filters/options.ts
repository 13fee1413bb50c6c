// Shared helper for filter option parsing: a zod schema in, a plain record out, and an
// error message that names the option path (the config loader adds file and line).
import type { z } from "zod";

export function parseFilterOptions<T extends z.ZodType>(schema: T, raw: unknown): Record<string, unknown> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data as Record<string, unknown>;
  const i = r.error.issues[0]!;
  const path = i.path.map(String).join(".");
  throw new Error(path ? `${path}: ${i.message}` : i.message);
}
