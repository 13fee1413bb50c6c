// The quarantine digest: per tenant, every `interval_minutes`, one mail per user listing the
// messages quarantined for them since the tenant's last digest, with signed single-use
// release links and view links. A crash before the cursor moves re-sends that round's
// digests (harmless); quarantined mail itself is never touched here.
import type { Runtime } from "../runtime.ts";
import type { TenantConfig } from "../config/schema.ts";
import type { QuarantineItem } from "../store/types.ts";
import { noticeFrom, renderNotification } from "../notify/index.ts";
import { linkKeys } from "./links.ts";
import { needsAdmin } from "./may-release.ts";
import { compilePair, digestItemTemplate, DIGEST_DEFAULTS, DIGEST_VARIABLES } from "./templates.ts";
import { deliverCopy, storeOf } from "./release.ts";
import type { Routes } from "../delivery/nexthop/route.ts";

export interface DigestResult {
  tenant: string;
  sent: string[];
  failed: string[];
}

const ADMIN_ONLY = {
  en: "(only your administrator can release this message)",
  ja: "(このメッセージは管理者のみ取り出せます)",
} as const;

function withToken(base: string, token: string): string {
  return `${base}${base.includes("?") ? "&" : "?"}t=${token}`;
}

/** Send due digests of every tenant (or only `tenantId`); `force` ignores the interval. */
export async function runDigests(
  runtime: Runtime,
  routes: Routes,
  opts: { now?: Date; force?: boolean; tenantId?: string } = {},
): Promise<DigestResult[]> {
  const now = opts.now ?? new Date();
  const out: DigestResult[] = [];
  for (const t of runtime.config.tenants) {
    const d = t.quarantine?.digest;
    if (!d?.enabled || (opts.tenantId && t.id !== opts.tenantId)) continue;
    const cursorName = `digest:${t.id}`;
    const store = storeOf(runtime);
    const last = await store.getCursor(cursorName);
    const interval = d.interval_minutes * 60_000;
    if (!opts.force && last && now.getTime() - last.getTime() < interval) continue;
    const since = last ?? new Date(now.getTime() - interval);
    const items = await store.listQuarantine({ tenant: t.id, state: "quarantined", since, limit: 10_000 });
    const res = await sendTenantDigests(
      runtime,
      routes,
      t,
      items.filter((i) => i.createdAt < now),
      now,
    );
    await store.setCursor(cursorName, now);
    out.push(res);
  }
  return out;
}

async function sendTenantDigests(
  runtime: Runtime,
  routes: Routes,
  t: TenantConfig,
  items: QuarantineItem[],
  now: Date,
): Promise<DigestResult> {
  const d = t.quarantine!.digest!;
  const keys = linkKeys(runtime.config);
  const result: DigestResult = { tenant: t.id, sent: [], failed: [] };
  if (!keys) {
    runtime.log.error(
      { tenant: t.id },
      "digest skipped: no node.link_secret (or SLUICE_LINK_SECRET) on this node",
    );
    return result;
  }
  const byUser = new Map<string, QuarantineItem[]>();
  for (const it of items) {
    for (const r of it.recipients) {
      if (r.state !== "quarantined") continue;
      byUser.set(r.address, [...(byUser.get(r.address) ?? []), it]);
    }
  }
  const expires = new Date(now.getTime() + d.link_ttl_hours * 3_600_000);
  const from = noticeFrom(t, { own: d.from, fallbackDomain: t.domains[0]! });
  for (const [user, list] of byUser) {
    const lang = (await runtime.directory.lookup(user).catch(() => null))?.language ?? t.language;
    const pair = compilePair(
      DIGEST_DEFAULTS[lang],
      d.templates?.[lang],
      DIGEST_VARIABLES,
      `tenants.${t.id}.quarantine.digest.templates.${lang}`,
    );
    const item = digestItemTemplate(lang);
    const lines = list.map((it) =>
      item.render({
        date: it.createdAt.toISOString(),
        sender: it.envelope.mailFrom?.address || "<>",
        subject: (it.subject ?? "").replace(/[\r\n]+/g, " "),
        // The same rule as the console: a copy with a virus gets no release link.
        release_url: needsAdmin(it, user)
          ? ADMIN_ONLY[lang]
          : withToken(d.link_base, keys.sign("release", it.id, user, it.tenant, expires)),
        view_url: withToken(d.link_base, keys.sign("view", it.id, user, it.tenant, expires)),
      }),
    );
    const unsigned = await renderNotification({
      from,
      to: user,
      ...pair,
      vars: {
        recipient: user,
        tenant: t.id,
        count: String(list.length),
        items: lines.join("\n"),
        date: now.toISOString(),
      },
      date: now,
    });
    const raw = await runtime.signNotice(unsigned);
    const res = await deliverCopy(runtime, routes, {
      id: `digest-${t.id}`,
      envelope: null,
      from: "",
      recipients: [user],
      message: raw,
    });
    if (res.accepted.length) result.sent.push(user);
    else {
      result.failed.push(user);
      runtime.log.warn({ tenant: t.id, rcpt: user, failed: res.failed }, "digest not delivered");
    }
  }
  return result;
}
