// Loading a configuration: YAML text → schema check → cross-field checks (domains owned
// once, users inside their tenant's domains, filter names and options known). Every error
// names file, line and path. Nothing here opens sockets or the store.
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { configSchema, type Config } from "./schema.ts";
import { ConfigError, formatPath, type ConfigIssue } from "./errors.ts";
import { domainOf } from "../message/envelope.ts";

/** What the loader needs to know about filters: their names and option parsers. */
export interface FilterCatalog {
  has(name: string): boolean;
  parseOptions(name: string, raw: unknown): Record<string, unknown>;
}

export async function loadConfigFile(file: string, filters: FilterCatalog): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError([{ file, line: null, path: "", message: (err as Error).message }]);
  }
  return parseConfig(text, file, filters);
}

export function parseConfig(text: string, file: string, filters: FilterCatalog): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    issues.push({ file, line: lines.linePos(e.pos[0]).line, path: "", message: e.message.split("\n")[0]! });
  }
  if (issues.length) throw new ConfigError(issues);
  let raw: unknown;
  try {
    // An alias without its anchor, or too many aliases (a "billion laughs"), throws here: that is
    // the file's fault and gets a config error, never a stack trace (found by fuzzing).
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError([{ file, line: null, path: "", message: (err as Error).message.split("\n")[0]! }]);
  }
  const lineOf = (path: readonly PropertyKey[]) => lineFor(doc, lines, path);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      if (i.code === "unrecognized_keys") {
        // One issue per unknown key, pointing at the key itself.
        for (const k of i.keys) {
          const path = [...i.path, k];
          issues.push({ file, line: lineOf(path), path: formatPath(path), message: "unknown setting" });
        }
      } else issues.push({ file, line: lineOf(i.path), path: formatPath(i.path), message: i.message });
    }
    throw new ConfigError(issues);
  }
  const config = parsed.data;
  crossCheck(config, filters, (path, message) =>
    issues.push({ file, line: lineOf(path), path: formatPath(path), message }),
  );
  if (issues.length) throw new ConfigError(issues);
  return config;
}

/** The line of a setting (or of its nearest present parent) in a parsed YAML document. */
export function lineFor(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | null {
  // Walk up the path until a node with a position is found (missing keys point at their parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

type Report = (path: (string | number)[], message: string) => void;

function crossCheck(config: Config, filters: FilterCatalog, report: Report): void {
  const owner = new Map<string, string>();
  const addresses = new Map<string, string>();
  // A tenant's options are checked as they take effect: merged over the global and this node's role
  // layers, the way the policy resolver merges them (a tenant script may include the operator's
  // global Sieve scripts, or use templates defined globally).
  const role = config.roles[config.node.role]?.policy;
  const effective = (name: string, own: Record<string, unknown> | undefined, at: (string | number)[]) =>
    at[0] === "tenants"
      ? { ...config.policy.filters?.[name]?.options, ...role?.filters?.[name]?.options, ...own }
      : (own ?? {});
  const checkPolicy = (policy: Config["policy"] | undefined, at: (string | number)[]) => {
    for (const [name, fp] of Object.entries(policy?.filters ?? {})) {
      if (!filters.has(name)) {
        report([...at, "filters", name], `unknown filter "${name}"`);
        continue;
      }
      try {
        filters.parseOptions(name, effective(name, fp.options, at));
      } catch (err) {
        report([...at, "filters", name, "options"], (err as Error).message);
      }
    }
    const t = policy?.thresholds;
    if (t?.tag != null && t.quarantine != null && t.tag > t.quarantine) {
      report([...at, "thresholds", "tag"], "the tag threshold is above the quarantine threshold");
    }
    if (t?.quarantine != null && t.reject != null && t.quarantine > t.reject) {
      report([...at, "thresholds", "quarantine"], "the quarantine threshold is above the reject threshold");
    }
  };
  checkPolicy(config.policy, ["policy"]);
  for (const [role, r] of Object.entries(config.roles)) checkPolicy(r.policy, ["roles", role, "policy"]);
  config.tenants.forEach((t, ti) => {
    checkPolicy(t.policy, ["tenants", ti, "policy"]);
    if (config.tenants.findIndex((o) => o.id === t.id) !== ti) {
      report(["tenants", ti, "id"], `tenant id "${t.id}" is used twice`);
    }
    t.domains.forEach((d, di) => {
      const prev = owner.get(d);
      if (prev) report(["tenants", ti, "domains", di], `domain ${d} already belongs to tenant ${prev}`);
      else owner.set(d, t.id);
    });
    const max = t.policy?.lists?.max_entries ?? config.policy.lists?.max_entries ?? 20;
    t.users.forEach((u, ui) => {
      for (const [k, a] of [["address", u.address], ...u.aliases.map((x, i) => [`aliases[${i}]`, x])] as [
        string,
        string,
      ][]) {
        if (!t.domains.includes(domainOf(a))) {
          report(
            ["tenants", ti, "users", ui, k.replace(/\[\d+\]$/, "")],
            `${a} is not in a domain of tenant ${t.id}`,
          );
        }
        const prev = addresses.get(a);
        if (prev) report(["tenants", ti, "users", ui, "address"], `${a} is already defined (${prev})`);
        else addresses.set(a, `tenants[${ti}].users[${ui}]`);
      }
      if (u.whitelist.length > max) {
        report(
          ["tenants", ti, "users", ui, "whitelist"],
          `at most ${max} entries (has ${u.whitelist.length})`,
        );
      }
      if (u.blacklist.length > max) {
        report(
          ["tenants", ti, "users", ui, "blacklist"],
          `at most ${max} entries (has ${u.blacklist.length})`,
        );
      }
    });
  });
}
