// Tenants and domains with their effective policy: filter order and priority, on/off (and
// why off), thresholds, list limits. Read-only: policy changes are configuration revisions.
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad } from "../util.tsx";

interface Tenant {
  id: string;
  domains: string[];
  language: string;
  delivery: string;
  thresholds: Record<string, number | null>;
  lists: { maxEntries: number; blacklistAction: string };
  filters: { name: string; enabled: boolean; offReason: string | null; priority: number; onError: string }[];
}

export function TenantsPage() {
  const t = useT();
  const { data, error } = useLoad(() => api<{ tenants: Tenant[] }>("GET", "/api/tenants"), []);
  return (
    <div>
      <ErrorLine error={error} />
      {(data?.tenants ?? []).map((x) => (
        <div className="card" key={x.id}>
          <h3>{x.id}</h3>
          <p>
            {t("domains")}: {x.domains.join(", ")} · {t("language")}: {x.language} · {x.delivery}
          </p>
          <p>
            {t("thresholds")}:{" "}
            {Object.entries(x.thresholds)
              .map(([k, v]) => `${k} ${v ?? "-"}`)
              .join(" · ")}{" "}
            · {t("whitelist")}/{t("blacklist")} ≤ {x.lists.maxEntries}
          </p>
          <Table
            head={[t("filters"), t("priority"), t("enabled"), "on_error"]}
            rows={x.filters.map((f) => [
              f.name,
              f.priority,
              f.enabled ? t("on") : `${t("off")}${f.offReason ? ` (${f.offReason})` : ""}`,
              f.onError,
            ])}
          />
        </div>
      ))}
    </div>
  );
}
