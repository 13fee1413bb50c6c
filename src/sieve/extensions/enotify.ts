// RFC 5435 enotify with the RFC 5436 mailto method: notify, valid_notify_method,
// notify_method_capability (and :encodeurl in variables.ts). Constant URIs, :from and :importance are
// checked at compile time, including the caller's allow-list of targets; sending is the caller's job.

import type { EnotifyAction } from "../actions.ts";
import { parseMailbox } from "../address.ts";
import { parseMailto, methodScheme, type MailtoUri } from "../mailto.ts";
import { matchValues } from "../match.ts";
import type { Runtime } from "../runtime.ts";
import { MATCH_TAGS, type Extension, type MatchSpec, type ValidationContext } from "../spec.ts";
import type { Pos } from "../ast.ts";
import type { Value } from "../values.ts";

const OPTION = /^[A-Za-z0-9][A-Za-z0-9.+_-]*=/;

function constant(v: Value | undefined): { text: string; pos: Pos } | null {
  const s = v?.type === "strings" ? v.items[0] : undefined;
  return s && s.parts === null ? { text: s.text, pos: s.pos } : null;
}

/** A usable method URI, or why not; recipients outside the allow-list are reported separately. */
function checkMethod(
  uri: string,
  allowed: ((a: string) => boolean) | undefined,
): { ok: MailtoUri; refused: string[] } | { error: string } {
  const scheme = methodScheme(uri);
  if (scheme === null) return { error: `invalid method URI "${uri}" (no scheme)` };
  if (scheme !== "mailto") return { error: `unsupported notification method "${scheme}" (only mailto)` };
  const parsed = parseMailto(uri);
  if ("error" in parsed) return { error: `mailto URI: ${parsed.error}` };
  const refused = allowed ? parsed.recipients.filter((r) => !allowed(r)) : [];
  return { ok: parsed, refused };
}

function validateNotify(
  node: Parameters<NonNullable<Extension["commands"][0]["validate"]>>[0],
  ctx: ValidationContext,
) {
  const imp = node.tags.get("importance");
  if (imp) {
    const c = constant(imp.value);
    if (c === null || !["1", "2", "3"].includes(c.text)) {
      throw ctx.error(imp.value?.pos ?? imp.pos, `":importance" must be "1", "2" or "3"`);
    }
  }
  const from = constant(node.tags.get("from")?.value);
  if (from) {
    const m = parseMailbox(from.text);
    if ("error" in m) throw ctx.error(from.pos, `":from" address "${from.text}" is invalid: ${m.error}`);
  }
  const options = node.tags.get("options")?.value;
  if (options?.type === "strings") {
    for (const s of options.items) {
      if (s.parts !== null) continue;
      if (!OPTION.test(s.text)) throw ctx.error(s.pos, `invalid option "${s.text}" (expected name=value)`);
      ctx.warn(s.pos, `the mailto method takes no options; "${s.text}" is ignored`);
    }
  }
  const method = constant(node.args[0]);
  if (method === null) return;
  const checked = checkMethod(method.text, ctx.options.notifyAllowed);
  if ("error" in checked) throw ctx.error(method.pos, checked.error);
  checked.ok.warnings.forEach((w) => ctx.warn(method.pos, `mailto URI: ${w}`));
  if (checked.refused.length > 0) {
    throw ctx.error(
      method.pos,
      `notification target ${checked.refused.join(", ")} is not in the allowed notification domains`,
    );
  }
}

function runNotify(node: Parameters<Extension["commands"][0]["run"]>[0], rt: Runtime): void {
  const uri = rt.string(node.args[0]);
  const checked = checkMethod(uri, rt.main.extensions?.notifyAllowed);
  // RFC 5435 3.8: a method that cannot be used at run time is an error in the script.
  if ("error" in checked) return rt.fail(node.pos, `notify: ${checked.error}`);
  const recipients = checked.ok.recipients.filter((r) => !checked.refused.includes(r));
  const tag = (n: string) => (node.tags.has(n) ? rt.string(node.tags.get(n)?.value) : null);
  const from = tag("from");
  if (from !== null && "error" in parseMailbox(from)) rt.fail(node.pos, `notify: invalid :from "${from}"`);
  const action: EnotifyAction = {
    type: "enotify",
    method: uri,
    recipients,
    from,
    importance: (tag("importance") ?? "2") as EnotifyAction["importance"],
    options: node.tags.has("options") ? rt.strings(node.tags.get("options")?.value) : [],
    message: tag("message"),
    headers: checked.ok.headers,
    body: checked.ok.body,
  };
  if (checked.refused.length > 0) action.refused = checked.refused;
  const sent = rt.actions.filter((a) => a.type === "enotify").length;
  if (
    sent >= rt.limits.maxNotifications &&
    !rt.actions.some((a) => a.type === "enotify" && a.method === uri)
  ) {
    throw rt.limitError(node.pos, "maxNotifications", "too many notify actions");
  }
  rt.addAction(node.pos, action);
}

export const enotifyExtension: Extension = {
  capabilities: ["enotify"],
  commands: [
    {
      kind: "command",
      name: "notify",
      capability: "enotify",
      tags: [
        { name: "from", value: "string" },
        { name: "importance", value: "string" },
        { name: "options", value: "string-list" },
        { name: "message", value: "string" },
      ],
      args: [{ name: "method", type: "string" }],
      test: "none",
      block: false,
      validate: validateNotify,
      run: runNotify,
    },
  ],
  tests: [
    {
      kind: "test",
      name: "valid_notify_method",
      capability: "enotify",
      tags: [],
      args: [{ name: "notification-uris", type: "string-list" }],
      tests: "none",
      run(node, rt) {
        return rt.strings(node.args[0]).every((uri) => {
          const c = checkMethod(uri, rt.main.extensions?.notifyAllowed);
          return !("error" in c) && c.refused.length === 0 && c.ok.recipients.length > 0;
        });
      },
    },
    {
      kind: "test",
      name: "notify_method_capability",
      capability: "enotify",
      tags: MATCH_TAGS,
      args: [
        { name: "notification-uri", type: "string" },
        { name: "notification-capability", type: "string" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      run(node, rt) {
        const c = checkMethod(rt.string(node.args[0]), rt.main.extensions?.notifyAllowed);
        if ("error" in c) return false;
        // RFC 5436 2.9: whether a mail recipient is "online" cannot be known.
        if (rt.string(node.args[1]).toLowerCase() !== "online") return false;
        return matchValues(rt, node.pos, node.match as MatchSpec, ["maybe"], rt.strings(node.args[2]));
      },
    },
  ],
};
