// `sluice config explain PATH`: the effective value of one setting and which layer set it — the
// file (with its line), a schema default, or, under policy, the global → role → tenant layer that
// wins (computed by the same PolicyResolver the node uses). Reads files only; opens no store.
import { hostname } from "node:os";
import { LineCounter, isNode, parseDocument, type Document } from "yaml";
import { parseConfig } from "../config/load.ts";
import { configJsonSchema, SECTION_HELP } from "../config/json-schema.ts";
import type { Config, PolicySpec } from "../config/schema.ts";
import type { FilterRegistry } from "../pipeline/registry.ts";
import { PolicyResolver } from "../policy/resolve.ts";
import type { RecipientPolicy } from "../policy/types.ts";
import { CliUsageError } from "./quarantine.ts";

type Segment = string | number;

export interface LayerValue {
  /** e.g. "policy", "roles.mx.policy", "tenants[0].policy". */
  layer: string;
  /** Does this layer set the value (or, for filter options, the option it sits in)? */
  set: boolean;
  /** FILE:LINE where it does. */
  at: string | null;
  value: unknown;
}

export interface Explanation {
  /** The configuration read: a file name, or "(embedded quick-start)". */
  config: string;
  path: string;
  value: unknown;
  /** Where the value in force comes from: FILE:LINE, "default", or a policy layer at FILE:LINE. */
  source: string;
  /** Policy settings: each layer, global first; the last one that sets the value wins. */
  layers?: LayerValue[];
  /** The tenant and role the policy value was computed for. */
  scope?: { role: string; tenant: string | null };
  note?: string;
  section: string;
}

export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) {
    const part = m[1] ?? m[2] ?? "";
    out.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  if (out.length === 0) throw new CliUsageError(`no setting named "${path}"`);
  return out;
}

function formatPath(segs: readonly Segment[]): string {
  return segs.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s ? `${s}.${p}` : p), "");
}

function getIn(obj: unknown, segs: readonly Segment[]): unknown {
  let v: unknown = obj;
  for (const s of segs) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/** Does the JSON Schema know this path (an optional setting absent from the file still counts)? */
function knownPath(schema: Record<string, unknown>, segs: readonly Segment[]): boolean {
  const defs = (schema.$defs ?? {}) as Record<string, Record<string, unknown>>;
  const deref = (s: Record<string, unknown>): Record<string, unknown>[] => {
    if (typeof s.$ref === "string") return deref(defs[s.$ref.split("/").pop()!] ?? {});
    const alts = [s.anyOf, s.oneOf, s.allOf].filter(Array.isArray).flat() as Record<string, unknown>[];
    return alts.length ? alts.flatMap(deref) : [s];
  };
  let at: Record<string, unknown>[] = deref(schema);
  for (const seg of segs) {
    const next: Record<string, unknown>[] = [];
    for (const s of at) {
      if (typeof seg === "number" && s.items) next.push(...deref(s.items as Record<string, unknown>));
      const props = s.properties as Record<string, Record<string, unknown>> | undefined;
      if (typeof seg === "string" && props?.[seg]) next.push(...deref(props[seg]));
      else if (
        typeof seg === "string" &&
        s.additionalProperties &&
        typeof s.additionalProperties === "object"
      )
        next.push(...deref(s.additionalProperties as Record<string, unknown>));
      else if (typeof seg === "string" && !props && s.type === undefined) next.push({}); // open object
    }
    if (next.length === 0) return false;
    at = next;
  }
  return true;
}

function lineOf(doc: Document, lines: LineCounter, segs: readonly Segment[]): number | null {
  const node = doc.getIn(segs as Segment[], true);
  return isNode(node) && node.range ? lines.linePos(node.range[0]).line : null;
}

/** Values the runtime derives when a setting is absent, which the schema cannot say. */
function derivedDefault(path: string, config: Config): string | undefined {
  if (path === "node.name")
    return `not set: the logs and heartbeats use this machine's host name (${hostname()})`;
  if (path === "node.state_dir")
    return `not set: the spool's parent folder (spool.dir is ${config.spool.dir})`;
  if (path === "secrets.key_file" || path === "secrets") {
    const env = process.env.SLUICE_SECRET_KEY ? "set here" : "not set here";
    return `without secrets.key_file the DKIM key seal comes from the SLUICE_SECRET_KEY environment variable (${env})`;
  }
  return undefined;
}

const DUMMY_DIRECTORY = { lookup: async () => null, authenticate: async () => null };

export async function explainConfig(
  text: string,
  file: string,
  path: string,
  registry: FilterRegistry,
  opts: { tenant?: string } = {},
): Promise<Explanation> {
  const config = parseConfig(text, file, registry);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const segs = parsePath(path);
  // tenants[example] or tenants.example: a tenant by id.
  if (segs[0] === "tenants" && typeof segs[1] === "string") {
    const i = config.tenants.findIndex((t) => t.id === segs[1]);
    if (i === -1) throw new CliUsageError(`no tenant "${segs[1]}" in ${file}`);
    segs[1] = i;
  }
  const normal = formatPath(segs);
  if (!knownPath(configJsonSchema(), segs)) throw new CliUsageError(`no setting named "${normal}"`);
  const section = `${String(segs[0])}: ${SECTION_HELP[segs[0] as keyof typeof SECTION_HELP] ?? ""}`;
  const at = (s: readonly Segment[]) => {
    const line = lineOf(doc, lines, s);
    return line === null ? null : `${file}:${line}`;
  };

  const p = segs.indexOf("policy");
  const policyScope =
    p === 0
      ? {}
      : segs[0] === "roles" && p === 2
        ? { role: String(segs[1]) }
        : segs[0] === "tenants" && p === 2
          ? { tenant: segs[1] as number }
          : null;
  if (policyScope && segs.length > p + 1) {
    return explainPolicy(config, registry, segs.slice(p + 1), at, {
      role: policyScope.role ?? config.node.role,
      tenantIndex:
        policyScope.tenant ?? (opts.tenant === undefined ? null : tenantIndex(config, opts.tenant, file)),
      path: normal,
      section,
      file,
    });
  }
  const value = getIn(config, segs);
  const where = at(segs);
  return {
    config: file,
    path: normal,
    value,
    source: where ?? (value === undefined ? "not set" : "default"),
    note: derivedDefault(normal, config),
    section,
  };
}

function tenantIndex(config: Config, id: string, file: string): number {
  const i = config.tenants.findIndex((t) => t.id === id);
  if (i === -1) throw new CliUsageError(`no tenant "${id}" in ${file}`);
  return i;
}

/** How many leading segments of a policy path one layer replaces as a whole (resolve.ts). */
function mergeDepth(rest: readonly Segment[]): number {
  // Filter options merge shallowly: options.K of a later layer replaces the whole of K.
  if (rest[0] === "filters" && rest[2] === "options") return Math.min(rest.length, 4);
  return rest.length;
}

async function explainPolicy(
  config: Config,
  registry: FilterRegistry,
  rest: Segment[],
  at: (s: readonly Segment[]) => string | null,
  scope: { role: string; tenantIndex: number | null; path: string; section: string; file: string },
): Promise<Explanation> {
  // Filter names are open keys in the schema: refuse one the registry does not know.
  if (rest[0] === "filters" && typeof rest[1] === "string" && !registry.get(rest[1])) {
    const names = registry
      .all()
      .map((f) => f.name)
      .sort();
    throw new CliUsageError(`no filter named "${rest[1]}" (filters: ${names.join(", ")})`);
  }
  const tenant = scope.tenantIndex === null ? null : config.tenants[scope.tenantIndex]!;
  const layers: { name: string; yaml: Segment[]; spec: PolicySpec | undefined }[] = [
    { name: "policy", yaml: ["policy"], spec: config.policy },
    {
      name: `roles.${scope.role}.policy`,
      yaml: ["roles", scope.role, "policy"],
      spec: config.roles[scope.role]?.policy,
    },
  ];
  if (tenant)
    layers.push({
      name: `tenants[${scope.tenantIndex}].policy`,
      yaml: ["tenants", scope.tenantIndex!, "policy"],
      spec: tenant.policy,
    });
  const depth = mergeDepth(rest);
  const key = rest.slice(0, depth);
  const chain: LayerValue[] = layers.map((l) => {
    const set = getIn(l.spec, key) !== undefined;
    return { layer: l.name, set, at: set ? at([...l.yaml, ...key]) : null, value: getIn(l.spec, rest) };
  });
  const winner = chain.findLast((l) => l.set);
  // The value in force, as the node computes it (defaults of filters and options included).
  const resolver = new PolicyResolver(
    { ...config, node: { ...config.node, role: scope.role } },
    registry.all(),
    DUMMY_DIRECTORY,
  );
  const effective = tenant
    ? await resolver.forRecipient(`sluice-config-explain@${tenant.domains[0]}`)
    : resolver.connectionPolicy();
  const fromResolver = resolvedValue(effective, rest);
  const value = fromResolver.known ? fromResolver.value : winner?.value;
  return {
    config: scope.file,
    path: scope.path,
    value,
    source: winner ? `${winner.layer}${winner.at ? ` at ${winner.at}` : ""}` : "default",
    layers: chain,
    scope: { role: scope.role, tenant: tenant?.id ?? null },
    section: scope.section,
  };
}

/** A policy path read from the resolved policy (its field names differ from the file's). */
function resolvedValue(p: RecipientPolicy, rest: readonly Segment[]): { known: boolean; value?: unknown } {
  const [a, b, c, ...more] = rest;
  const camel: Record<string, string> = {
    timeout_ms: "timeoutMs",
    on_error: "onError",
    max_entries: "maxEntries",
    blacklist_action: "blacklistAction",
    subject_prefix: "subjectPrefix",
  };
  if (a === "thresholds")
    return { known: true, value: b === undefined ? p.thresholds : getIn(p.thresholds, [b]) };
  if (a === "scores")
    return {
      known: b !== undefined && b in p.scores,
      value: b === undefined ? p.scores : p.scores[String(b)],
    };
  if (a === "lists" && b !== undefined)
    return { known: true, value: getIn(p.lists, [camel[String(b)] ?? b]) };
  if (a === "tag" && b !== undefined) return { known: true, value: getIn(p.tag, [camel[String(b)] ?? b]) };
  if (a === "filters" && b !== undefined) {
    const f = p.filters[String(b)];
    if (!f || c === undefined) return { known: false };
    if (c === "options") return { known: true, value: getIn(f.options, more) };
    return { known: true, value: getIn(f, [camel[String(c)] ?? c]) };
  }
  return { known: false };
}

export function formatExplanation(e: Explanation): string {
  const show = (v: unknown) => (v === undefined ? "(not set)" : JSON.stringify(v));
  const out = [
    `${e.path} = ${show(e.value)}`,
    `  set by: ${e.source}`,
    `  configuration: ${e.config}${e.config.startsWith("(") ? " — --config FILE explains yours" : ""}`,
  ];
  if (e.scope)
    out.push(
      `  for: role ${e.scope.role}${e.scope.tenant ? `, tenant ${e.scope.tenant}` : " (no tenant: --tenant ID)"}`,
    );
  if (e.layers) {
    out.push("  layers (global → role → tenant; the last one that sets it wins):");
    const width = Math.max(...e.layers.map((l) => l.layer.length));
    for (const l of e.layers) {
      out.push(`    ${l.layer.padEnd(width)}  ${l.set ? `${l.at ?? "(set)"}  ${show(l.value)}` : "-"}`);
    }
  }
  if (e.note) out.push(`  note: ${e.note}`);
  out.push(`  section ${e.section}`);
  return out.join("\n") + "\n";
}
