// The OpenAPI 3.1 document at /api/openapi.json, built from the routes themselves: every
// /api/ route registered after collectOpenApi() contributes its method, path, summary and
// JSON schemas, so the document cannot drift from the code. Not a validator (Fastify is).
import type { FastifyInstance, RouteOptions } from "fastify";

declare module "fastify" {
  interface FastifySchema {
    summary?: string;
    tags?: string[];
  }
}

interface RouteSchema {
  summary?: string;
  tags?: string[];
  params?: Record<string, unknown>;
  querystring?: Record<string, unknown>;
  body?: Record<string, unknown>;
}

export function collectOpenApi(app: FastifyInstance): () => Record<string, unknown> {
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (r) => {
    if (r.url.startsWith("/api/") && r.method !== "HEAD") routes.push(r);
  });
  return () => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of routes) {
      const s = (r.schema ?? {}) as RouteSchema;
      const path = r.url.replace(/:([A-Za-z_]+)/g, "{$1}");
      const parameters = [...paramList(s.params, "path"), ...paramList(s.querystring, "query")];
      for (const m of [r.method].flat()) {
        (paths[path] ??= {})[m.toLowerCase()] = {
          summary: s.summary ?? `${m} ${path}`,
          tags: s.tags ?? [path.split("/")[2] ?? "api"],
          ...(parameters.length ? { parameters } : {}),
          ...(s.body
            ? { requestBody: { required: true, content: { "application/json": { schema: s.body } } } }
            : {}),
          responses: {
            "200": { description: "success (JSON)" },
            default: {
              description: "error",
              content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
            },
          },
        };
      }
    }
    return {
      openapi: "3.1.0",
      info: {
        title: "Sluice console API",
        version: "1",
        description:
          "Log in with POST /api/auth/login; the session cookie is HttpOnly. Every POST/PUT/DELETE " +
          "must send the session's csrf value (login response, GET /api/auth/me) in X-CSRF-Token.",
      },
      paths,
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "sluice_session" },
          csrf: { type: "apiKey", in: "header", name: "X-CSRF-Token" },
        },
        schemas: {
          Problem: {
            type: "object",
            properties: {
              type: { type: "string" },
              title: { type: "string" },
              status: { type: "integer" },
              detail: { type: "string" },
            },
          },
        },
      },
      security: [{ session: [], csrf: [] }],
    };
  };
}

function paramList(schema: Record<string, unknown> | undefined, where: "path" | "query") {
  const props = (schema?.properties ?? {}) as Record<string, unknown>;
  const required = (schema?.required ?? []) as string[];
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || required.includes(name),
    schema: s,
  }));
}
