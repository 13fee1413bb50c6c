// Notification templates: "{name}" placeholders from a fixed list, "{{" and "}}" for literal
// braces. Compiled once when the configuration is loaded, so a typo fails there, with its
// position — never when a virus arrives. No logic, loops or HTML: plain text in, plain text out.

export class NotifyTemplateError extends Error {
  /** Where the template sits in the options (e.g. "notify.templates.recipient.ja.subject"). */
  readonly where: string;
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "NotifyTemplateError";
    this.where = where;
  }
}

export interface CompiledTemplate {
  readonly source: string;
  /** Variables the template uses, in order of first use. */
  readonly variables: readonly string[];
  render(vars: Readonly<Record<string, string>>): string;
}

type Part = { text: string } | { variable: string };

export function compileTemplate(source: string, allowed: readonly string[], where: string): CompiledTemplate {
  const parts: Part[] = [];
  let text = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "{" && source[i + 1] === "{") {
      text += "{";
      i++;
    } else if (c === "}" && source[i + 1] === "}") {
      text += "}";
      i++;
    } else if (c === "{") {
      const end = source.indexOf("}", i);
      if (end === -1) throw new NotifyTemplateError(where, `unclosed "{" at ${position(source, i)}`);
      const name = source.slice(i + 1, end).trim();
      if (!allowed.includes(name)) {
        const hint = closest(name, allowed);
        throw new NotifyTemplateError(
          where,
          `unknown variable {${name}} at ${position(source, i)}` +
            (hint ? ` (did you mean {${hint}}?)` : "") +
            `; known: ${allowed.map((a) => `{${a}}`).join(", ")}`,
        );
      }
      if (text) parts.push({ text });
      text = "";
      parts.push({ variable: name });
      i = end;
    } else if (c === "}") {
      throw new NotifyTemplateError(where, `stray "}" at ${position(source, i)} (write "}}" for a brace)`);
    } else text += c;
  }
  if (text) parts.push({ text });
  const variables = [...new Set(parts.flatMap((p) => ("variable" in p ? [p.variable] : [])))];
  return {
    source,
    variables,
    render: (vars) => parts.map((p) => ("text" in p ? p.text : (vars[p.variable] ?? ""))).join(""),
  };
}

function position(s: string, i: number): string {
  const before = s.slice(0, i).split("\n");
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

function closest(name: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const a of allowed) {
    const d = distance(name.toLowerCase(), a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
