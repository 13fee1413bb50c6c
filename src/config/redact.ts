// Keeping secrets out of what is shown and recorded: configuration text (revisions in the
// API, the audit log) with password hashes, bind passwords, link secrets and filter passwords
// replaced by "[redacted]", and the way back — a revision edited from a redacted copy gets
// each "[redacted]" filled in from the role's previous revision before it is validated.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type Scalar } from "yaml";
import { ConfigError, type ConfigIssue } from "./errors.ts";

export const REDACTED = "[redacted]";

/** Setting names whose values are secrets (paths to secret files, *_file, are not). */
export function isSecretKey(key: string): boolean {
  return !/_file$/i.test(key) && /(password|passwd|secret|token|private_?key|passphrase|api_?key)/i.test(key);
}

/** Values that are secrets whatever their name: scrypt hashes, PEM private keys. */
export function isSecretValue(v: string): boolean {
  return /^!?scrypt\$/.test(v) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v);
}

interface Found {
  pair: Pair<unknown, Scalar>;
  /** Items of sequences named by their address or id, so reordering keeps the match. */
  key: string;
  /** For messages: tenants[0].users[2].password_hash. */
  path: string;
}

function secrets(root: Node | null | undefined): Found[] {
  const out: Found[] = [];
  const walk = (node: unknown, key: string, path: string) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const k = `${key}.${name}`;
        const p = path ? `${path}.${name}` : name;
        if (isScalar(pair.value)) {
          const v = pair.value.value;
          if (typeof v === "string" && (isSecretKey(name) || isSecretValue(v)))
            out.push({ pair: pair as Pair<unknown, Scalar>, key: k, path: p });
        } else walk(pair.value, k, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const id = isMap(item) ? (item.get("address") ?? item.get("id")) : undefined;
        walk(item, `${key}[${typeof id === "string" ? id : i}]`, `${path}[${i}]`);
      });
    }
  };
  walk(root, "", "");
  return out;
}

/**
 * Replace scalar values in the source text itself (last first), so everything else — comments,
 * quoting, flow style, line lengths, line numbers — stays exactly as written.
 */
function splice(text: string, edits: { scalar: Scalar; value: string }[]): string {
  let out = text;
  const sorted = edits.filter((e) => e.scalar.range).sort((a, b) => b.scalar.range![0] - a.scalar.range![0]);
  for (const e of sorted) {
    const [start, end] = e.scalar.range!;
    out = out.slice(0, start) + JSON.stringify(e.value) + out.slice(end);
  }
  return out;
}

/** The text with every secret value replaced by "[redacted]" (all else kept as written). */
export function redactConfigText(text: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    // Not YAML we can walk: still never show a hash or a key.
    return text
      .replace(/!?scrypt\$[^\s"',}\]]+/g, REDACTED)
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED);
  }
  return splice(
    text,
    secrets(doc.contents).map((f) => ({ scalar: f.pair.value!, value: REDACTED })),
  );
}

/**
 * Fill each "[redacted]" in a revision being published with the value at the same place in
 * the previous revision; a "[redacted]" with nothing to keep is an issue (FILE:LINE: path).
 */
export function restoreRedacted(text: string, previous: string | null, label: string): string {
  if (!text.includes(REDACTED)) return text;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length) return text; // validation reports the YAML error itself
  const wanted = secrets(doc.contents).filter((f) => f.pair.value!.value === REDACTED);
  if (!wanted.length) return text;
  const old = new Map<string, string>();
  if (previous !== null) {
    const prev = parseDocument(previous);
    for (const f of secrets(prev.contents)) {
      const v = f.pair.value!.value;
      if (typeof v === "string" && v !== REDACTED) old.set(f.key, v);
    }
  }
  const issues: ConfigIssue[] = [];
  const edits: { scalar: Scalar; value: string }[] = [];
  for (const f of wanted) {
    const v = old.get(f.key);
    if (v !== undefined) edits.push({ scalar: f.pair.value!, value: v });
    else {
      const at = f.pair.value!.range?.[0];
      issues.push({
        file: label,
        line: at === undefined ? null : lines.linePos(at).line,
        path: f.path,
        message: `${REDACTED} stands for a secret the previous revision does not have here: enter the value`,
      });
    }
  }
  if (issues.length) throw new ConfigError(issues);
  return splice(text, edits);
}

/**
 * A copy of an audit value with secrets replaced: values of secret-named keys, hashes and
 * private keys anywhere, and configuration text under `text`.
 */
export function redactValue(v: unknown, key = ""): unknown {
  if (typeof v === "string") {
    if (v && isSecretKey(key)) return REDACTED;
    if (key === "text") return redactConfigText(v);
    return isSecretValue(v) ? REDACTED : v;
  }
  if (Array.isArray(v)) return v.map((x) => redactValue(x, key));
  if (v && typeof v === "object" && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x, k)]));
  }
  return v;
}
