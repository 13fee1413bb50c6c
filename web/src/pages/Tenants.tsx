// Tenants and domains with their effective policy: filter order and priority, on/off (and why
// off), thresholds, list limits. The filter order and on/off of a tenant can be changed here:
// the change is published as a configuration revision (every node of the role applies it).
import { useEffect, useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";

interface Filter {
  name: string;
  enabled: boolean;
  offReason: string | null;
  priority: number;
  onError: string;
}

interface Tenant {
  id: string;
  domains: string[];
  language: string;
  delivery: string;
  thresholds: Record<string, number | null>;
  lists: { maxEntries: number; blacklistAction: string };
  filters: Filter[];
}

export function TenantsPage({ me }: { me: Me }) {
  const { data, error, reload } = useLoad(() => api<{ tenants: Tenant[] }>("GET", "/api/tenants"), []);
  return (
    <div>
      <ErrorLine error={error} />
      {(data?.tenants ?? []).map((x) => (
        <TenantCard key={x.id} tenant={x} me={me} onPublished={reload} />
      ))}
    </div>
  );
}

function TenantCard({ tenant: x, onPublished }: { tenant: Tenant; me: Me; onPublished: () => void }) {
  const t = useT();
  const [rows, setRows] = useState<Filter[]>(x.filters);
  const [note, setNote] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setRows(x.filters), [x.filters]);
  const changed = rows.some((r) => {
    const o = x.filters.find((f) => f.name === r.name)!;
    return o.priority !== r.priority || o.enabled !== r.enabled;
  });
  const set = (name: string, patch: Partial<Filter>) =>
    setRows(rows.map((r) => (r.name === name ? { ...r, ...patch } : r)));
  /** Move a filter one place up or down: it takes the neighbour's priority (ties broken by ±1). */
  const move = (i: number, by: -1 | 1) => {
    const sorted = [...rows].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
    const j = i + by;
    if (j < 0 || j >= sorted.length) return;
    const a = sorted[i]!;
    const b = sorted[j]!;
    const pa = a.priority === b.priority ? b.priority + by : b.priority;
    const pb = a.priority;
    setRows(
      rows.map((r) =>
        r.name === a.name ? { ...r, priority: pa } : r.name === b.name ? { ...r, priority: pb } : r,
      ),
    );
  };
  const publish = () =>
    api<{ rev: number; role: string }>("PUT", `/api/tenants/${encodeURIComponent(x.id)}/filters`, {
      filters: rows.map((r) => ({ name: r.name, priority: r.priority, enabled: r.enabled })),
      ...(note ? { note } : {}),
    })
      .then((r) => {
        setError(null);
        setDone(`${t("published")}: rev ${r.rev} (${r.role})`);
        onPublished();
      })
      .catch((e: Error) => (setDone(null), setError(e.message)));
  const sorted = [...rows].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  return (
    <div className="card" data-testid={`tenant-${x.id}`}>
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
      <table className="data" data-testid={`filters-${x.id}`}>
        <colgroup>
          <col style={{ width: "5%" }} />
          <col style={{ width: "25%" }} />
          <col style={{ width: "15%" }} />
          <col style={{ width: "30%" }} />
          <col style={{ width: "10%" }} />
          <col style={{ width: "15%" }} />
        </colgroup>
        <thead>
          <tr>
            <th>#</th>
            <th>{t("filters")}</th>
            <th>{t("priority")}</th>
            <th>{t("enabled")}</th>
            <th>on_error</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sorted.map((f, i) => (
            <tr key={f.name} data-testid={`filter-row-${f.name}`}>
              <td>{i + 1}</td>
              <td className="mono">{f.name}</td>
              <td>
                <input
                  type="number"
                  value={f.priority}
                  style={{ width: "6em" }}
                  onChange={(e) => set(f.name, { priority: Number(e.target.value) })}
                  aria-label={`${f.name} ${t("priority")}`}
                  data-testid={`prio-${f.name}`}
                />
              </td>
              <td>
                <label>
                  <input
                    type="checkbox"
                    checked={f.enabled}
                    onChange={(e) => set(f.name, { enabled: e.target.checked })}
                    data-testid={`enabled-${f.name}`}
                  />{" "}
                  {f.enabled ? t("on") : `${t("off")}${f.offReason && !changed ? ` (${f.offReason})` : ""}`}
                </label>
              </td>
              <td>{f.onError}</td>
              <td>
                <button
                  onClick={() => move(i, -1)}
                  disabled={i === 0}
                  aria-label="up"
                  data-testid={`up-${f.name}`}
                >
                  ▲
                </button>
                <button
                  onClick={() => move(i, 1)}
                  disabled={i === sorted.length - 1}
                  aria-label="down"
                  data-testid={`down-${f.name}`}
                >
                  ▼
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <input
          className="grow"
          placeholder={t("revisionNote")}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          data-testid={`note-${x.id}`}
        />
        <button
          className="primary"
          disabled={!changed}
          onClick={publish}
          data-testid={`publish-filters-${x.id}`}
        >
          {t("publishRevision")}
        </button>
        <button disabled={!changed} onClick={() => setRows(x.filters)}>
          {t("cancel")}
        </button>
      </div>
      {done && (
        <p className="ok" data-testid={`published-${x.id}`}>
          {done}
        </p>
      )}
      <ErrorLine error={error} />
    </div>
  );
}
