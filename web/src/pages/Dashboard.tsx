// Dashboard per tenant (operators: any tenant or all): throughput, actions and the top symbols
// over time, spam and virus rates, the strongest symbols, and what the node depends on — store,
// directory, readiness checks — with the cluster's nodes and their revisions for operators.
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";
import { Legend, Lines, PALETTE, StackedBars, type Series } from "../charts.tsx";

interface Stats {
  minutes: number;
  bucketMinutes: number;
  tenant: string | null;
  messages: number;
  recipients: number;
  actions: Record<string, number>;
  spamRate: number;
  virusRate: number;
  truncated: boolean;
  series: { at: string; messages: number; recipients: number; counts: Record<string, number> }[];
  topSymbols: { name: string; count: number }[];
  symbolSeries: { name: string; counts: number[] }[];
  health: {
    status: string;
    store: { kind: string; up: boolean };
    directory: {
      kind: string;
      up: boolean | null;
      cache: { hits: number; misses: number; size: number } | null;
    };
    checks: Record<string, boolean>;
  };
  cluster?: {
    nodes: {
      name: string;
      role: string;
      health: string;
      appliedRev: number | null;
      seenAgoS: number;
      error: string | null;
    }[];
    revisions: { role: string; rev: number | null; author: string | null; at: string | null }[];
  };
}

const COLORS: Record<string, string> = {
  accept: "#3b82c4",
  tag: "#e3b341",
  quarantine: "#d9822b",
  hold: "#8e6cc4",
  reject: "#c0392b",
  tempfail: "#7f8c8d",
  discard: "#34495e",
  redirect: "#16a085",
};

const RANGES = [60, 360, 1440, 10080];

export function Dashboard({ me }: { me: Me }) {
  const t = useT();
  const [minutes, setMinutes] = useState(60);
  const [tenant, setTenant] = useState("");
  const tenants = useLoad(
    () =>
      me.role === "operator"
        ? api<{ tenants: { id: string }[] }>("GET", "/api/tenants")
        : Promise.resolve(null),
    [me.role],
  );
  const { data, error } = useLoad(
    () =>
      api<Stats>(
        "GET",
        `/api/dashboard?minutes=${minutes}${tenant ? `&tenant=${encodeURIComponent(tenant)}` : ""}`,
      ),
    [minutes, tenant],
  );
  const label = (iso: string) => {
    const d = new Date(iso);
    return minutes > 1440
      ? d.toLocaleDateString([], { month: "numeric", day: "numeric" }) +
          " " +
          d.toLocaleTimeString([], { hour: "2-digit" })
      : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  };
  const controls = (
    <div className="row">
      {me.role === "operator" && (
        <select
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
          aria-label="tenant"
          data-testid="dash-tenant"
        >
          <option value="">{t("allTenants")}</option>
          {(tenants.data?.tenants ?? []).map((x) => (
            <option key={x.id}>{x.id}</option>
          ))}
        </select>
      )}
      <select
        value={minutes}
        onChange={(e) => setMinutes(Number(e.target.value))}
        aria-label="range"
        data-testid="dash-range"
      >
        {RANGES.map((m) => (
          <option key={m} value={m}>
            {m < 1440 ? `${m / 60} h` : `${m / 1440} d`}
          </option>
        ))}
      </select>
      {data && (
        <span className="muted">
          {t("bucket")}: {data.bucketMinutes} min{data.truncated ? ` · ${t("truncated")}` : ""}
        </span>
      )}
    </div>
  );
  if (!data)
    return (
      <div>
        {controls}
        <ErrorLine error={error} />
      </div>
    );
  const labels = data.series.map((s) => label(s.at));
  const actionNames = Object.keys(data.actions).sort(
    (a, b) => (data.actions[b] ?? 0) - (data.actions[a] ?? 0),
  );
  const actionSeries: Series[] = actionNames.map((a) => ({
    name: a,
    color: COLORS[a] ?? "#999",
    values: data.series.map((s) => s.counts[a] ?? 0),
  }));
  const throughput: Series[] = [
    { name: t("messages"), color: PALETTE[0]!, values: data.series.map((s) => s.messages) },
    { name: t("recipient"), color: PALETTE[3]!, values: data.series.map((s) => s.recipients) },
  ];
  const symbolSeries: Series[] = data.symbolSeries.map((s, i) => ({
    name: s.name,
    color: PALETTE[i % PALETTE.length]!,
    values: s.counts,
  }));
  const topMax = Math.max(1, ...data.topSymbols.map((s) => s.count));
  const up = (v: boolean | null) =>
    v === null ? (
      <span className="muted">-</span>
    ) : v ? (
      <span className="ok">{t("up")}</span>
    ) : (
      <span className="error">{t("down")}</span>
    );
  const latest = new Map((data.cluster?.revisions ?? []).map((r) => [r.role, r.rev]));
  return (
    <div data-testid="dashboard">
      {controls}
      <div className="row stats">
        <div className="card">
          <div className="muted">{t("messages")}</div>
          <div className="stat" data-testid="dash-messages">
            {data.messages}
          </div>
        </div>
        <div className="card">
          <div className="muted">{t("spamRate")}</div>
          <div className="stat">{(data.spamRate * 100).toFixed(1)}%</div>
        </div>
        <div className="card">
          <div className="muted">{t("virusRate")}</div>
          <div className="stat">{(data.virusRate * 100).toFixed(1)}%</div>
        </div>
        <div className="card" data-testid="dash-health">
          <div className="muted">{t("health")}</div>
          <div>
            {t("store")} ({data.health.store.kind}): {up(data.health.store.up)}
          </div>
          <div>
            {t("directory")} ({data.health.directory.kind}):{" "}
            {up(data.health.directory.up ?? (data.health.directory.kind === "builtin" ? true : null))}
            {data.health.directory.cache && (
              <span className="muted small">
                {" "}
                cache {data.health.directory.cache.size}, hits {data.health.directory.cache.hits}
              </span>
            )}
          </div>
          {Object.entries(data.health.checks)
            .filter(([k]) => k !== "store" && k !== "directory")
            .map(([k, v]) => (
              <div key={k}>
                {k}: {up(v)}
              </div>
            ))}
        </div>
      </div>
      <div className="card">
        <h3>{t("throughput")}</h3>
        <Lines series={throughput} labels={labels} title={t("throughput")} />
        <Legend series={throughput} />
      </div>
      <div className="card">
        <h3>{t("actionsOverTime")}</h3>
        <StackedBars series={actionSeries} labels={labels} title={t("actionsOverTime")} />
        <Legend series={actionSeries} totals={data.actions} />
      </div>
      <div className="row">
        <div className="card col">
          <h3>{t("symbolsOverTime")}</h3>
          <Lines
            series={symbolSeries}
            labels={labels}
            title={t("symbolsOverTime")}
            height={220}
            width={500}
          />
          <Legend series={symbolSeries} />
        </div>
        <div className="card col" data-testid="dash-top-symbols">
          <h3>{t("topSymbols")}</h3>
          {data.topSymbols.map((s) => (
            <div key={s.name} className="bar-row">
              <span className="mono">{s.name}</span>
              <span className="bar" style={{ width: `${(s.count / topMax) * 100}%` }} />
              <span>{s.count}</span>
            </div>
          ))}
        </div>
      </div>
      {data.cluster && (
        <div className="card" data-testid="dash-cluster">
          <h3>{t("nodes")}</h3>
          <table className="data">
            <thead>
              <tr>
                <th>node</th>
                <th>role</th>
                <th>{t("health")}</th>
                <th>rev</th>
                <th>{t("seen")}</th>
              </tr>
            </thead>
            <tbody>
              {data.cluster.nodes.map((n) => (
                <tr key={n.name}>
                  <td>{n.name}</td>
                  <td>{n.role}</td>
                  <td className={n.health === "ok" ? "ok" : "error"}>
                    {n.health + (n.error ? `: ${n.error}` : "")}
                  </td>
                  <td>
                    {n.appliedRev ?? "-"}
                    {latest.get(n.role) != null && latest.get(n.role) !== n.appliedRev && (
                      <span className="error">
                        {" "}
                        ({t("behind")} {latest.get(n.role)})
                      </span>
                    )}
                  </td>
                  <td>{n.seenAgoS} s</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted" data-testid="dash-revisions">
            {data.cluster.revisions
              .map((r) => `${r.role}: rev ${r.rev ?? "-"}${r.author ? ` (${r.author})` : ""}`)
              .join(" · ")}
          </p>
        </div>
      )}
    </div>
  );
}
