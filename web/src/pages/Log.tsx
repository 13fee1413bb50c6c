// Message tracking: the message log searched by reference id, address or subject and time,
// sorted and paged by the server; per recipient its action, the reply it got (refusals carry the
// reference id the sender quotes), score, the strongest symbols and the decision trace.
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Pager, SortHeader, Symbols, useLoad, when } from "../util.tsx";

interface Entry {
  id: string;
  tenant: string | null;
  at: string;
  sender: string;
  subject: string | null;
  recipients: {
    address: string;
    action: string;
    score: number;
    symbols: { name: string; score: number; detail?: string }[];
    trace: unknown[];
    reply?: string;
    stage?: string;
  }[];
}

const PAGE = 50;

/** The search a link opened the page with (#/log?q=REF), if any. */
function initialQuery(): string {
  const i = location.hash.indexOf("?");
  return i < 0 ? "" : (new URLSearchParams(location.hash.slice(i + 1)).get("q") ?? "");
}

export function LogPage({ me }: { me: Me }) {
  const t = useT();
  const [text, setText] = useState(initialQuery);
  const [recipient, setRecipient] = useState("");
  const [hours, setHours] = useState(initialQuery() ? "" : "24");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [query, setQuery] = useState({
    q: initialQuery(),
    recipient: "",
    hours: initialQuery() ? "" : "24",
    from: "",
    to: "",
  });
  const [sort, setSort] = useState<{ field: string; order: "asc" | "desc" }>({ field: "at", order: "desc" });
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const params = new URLSearchParams({
    limit: String(PAGE),
    offset: String(offset),
    sort: sort.field,
    order: sort.order,
  });
  if (query.q) params.set("q", query.q);
  if (query.recipient && me.role !== "user") params.set("recipient", query.recipient);
  // Rounded to the minute so the same search asks the same thing (and the loader does not loop).
  if (query.from) params.set("since", new Date(query.from).toISOString());
  if (query.to) params.set("before", new Date(query.to).toISOString());
  if (query.hours && !query.from)
    params.set(
      "since",
      new Date(Math.floor((Date.now() - Number(query.hours) * 3600_000) / 60_000) * 60_000).toISOString(),
    );
  const { data, error } = useLoad(
    () => api<{ entries: Entry[]; total: number }>("GET", `/api/log?${params}`),
    [params.toString()],
  );
  const onSort = (s: { field: string; order: "asc" | "desc" }) => (setOffset(0), setSort(s));
  const rows = (data?.entries ?? []).flatMap((e) =>
    e.recipients.map((r) => ({ e, r, key: `${e.id} ${r.address}` })),
  );
  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setQuery({ q: text.trim(), recipient: recipient.trim(), hours, from, to });
        }}
      >
        <input
          placeholder={t("searchLog")}
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="log-search"
          className="grow"
        />
        {me.role !== "user" && (
          <input
            placeholder={t("recipient")}
            value={recipient}
            onChange={(e) => setRecipient(e.target.value)}
          />
        )}
        <select
          value={hours}
          onChange={(e) => setHours(e.target.value)}
          aria-label="since"
          data-testid="log-since"
        >
          <option value="1">1 h</option>
          <option value="24">24 h</option>
          <option value="168">7 d</option>
          <option value="">{t("allTime")}</option>
        </select>
        <input
          type="datetime-local"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
          aria-label={t("from")}
          title={t("from")}
          data-testid="log-from"
        />
        <input
          type="datetime-local"
          value={to}
          onChange={(e) => setTo(e.target.value)}
          aria-label={t("to")}
          title={t("to")}
          data-testid="log-to"
        />
        <button type="submit" data-testid="log-search-submit">
          {t("search")}
        </button>
        <span className="spacer" />
        {data && <Pager offset={offset} limit={PAGE} total={data.total} onPage={setOffset} />}
      </form>
      <ErrorLine error={error} />
      {rows.length === 0 ? (
        <p className="muted">{t("nothing")}</p>
      ) : (
        <table className="data" data-testid="log-table">
          <colgroup>
            <col style={{ width: "13%" }} />
            <col style={{ width: "13%" }} />
            <col />
            <col style={{ width: "14%" }} />
            <col style={{ width: "8%" }} />
            <col style={{ width: "15%" }} />
            <col style={{ width: "12%" }} />
            <col style={{ width: "8%" }} />
          </colgroup>
          <thead>
            <tr>
              <SortHeader label={`${t("date")} / ${t("reference")}`} field="at" sort={sort} onSort={onSort} />
              <SortHeader label={t("sender")} field="sender" sort={sort} onSort={onSort} />
              <SortHeader label={t("subject")} field="subject" sort={sort} onSort={onSort} />
              <th>{t("recipient")}</th>
              <th>{t("action")}</th>
              <th>{t("reason")}</th>
              <th>{t("symbols")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map(({ e, r, key }) => (
              <tr key={key} data-testid={`log-row-${e.id}`}>
                <td>
                  {when(e.at)}
                  <div className="mono" data-testid="log-ref">
                    {e.id}
                    {me.role === "operator" && e.tenant ? ` · ${e.tenant}` : ""}
                  </div>
                </td>
                <td>{e.sender || "<>"}</td>
                <td>{e.subject ?? ""}</td>
                <td>{r.address || "-"}</td>
                <td>
                  <span className={`tag action-${r.action}`}>{r.action}</span>
                  {r.stage && <div className="muted small">{r.stage}</div>}
                </td>
                <td data-testid="log-reason">{r.reply ?? ""}</td>
                <td>
                  <Symbols symbols={r.symbols} />
                </td>
                <td>
                  <button onClick={() => setOpen(open === key ? null : key)} data-testid="log-trace">
                    {t("trace")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && (
        <div className="card" data-testid="trace-card">
          <h3>
            {t("trace")}: {open}
          </h3>
          <Trace trace={(rows.find((x) => x.key === open)?.r.trace ?? []) as TraceRow[]} />
        </div>
      )}
    </div>
  );
}

type TraceRow = {
  filter?: string;
  stage?: string;
  ran?: boolean;
  reason?: string;
  ms?: number;
  symbols?: string[];
  action?: string;
  error?: string;
  note?: string;
  priority?: number;
  decision?: string;
  by?: string;
};

/** The decision trace in the order the filters ran (with the priority that ordered them). */
function Trace({ trace }: { trace: TraceRow[] }) {
  const t = useT();
  return (
    <table className="data" data-testid="trace">
      <colgroup>
        <col style={{ width: "4%" }} />
        <col style={{ width: "8%" }} />
        <col style={{ width: "16%" }} />
        <col style={{ width: "8%" }} />
        <col />
        <col style={{ width: "10%" }} />
      </colgroup>
      <thead>
        <tr>
          <th>#</th>
          <th>stage</th>
          <th>{t("filters")}</th>
          <th>{t("priority")}</th>
          <th>{t("symbols")}</th>
          <th>{t("action")}</th>
        </tr>
      </thead>
      <tbody>
        {trace.map((e, i) =>
          e.decision ? (
            <tr key={i} className="decision">
              <td>{i + 1}</td>
              <td colSpan={4}>
                <strong>
                  {e.decision} ← {e.by}
                </strong>
              </td>
              <td>{e.decision}</td>
            </tr>
          ) : (
            <tr key={i} className={e.ran ? "" : "muted"} data-testid={`trace-${e.filter}`}>
              <td>{i + 1}</td>
              <td>{e.stage}</td>
              <td className="mono">{e.filter}</td>
              <td data-testid="trace-priority">{e.priority ?? ""}</td>
              <td>
                {e.ran ? (e.symbols ?? []).join(" ") : e.reason}
                {e.error && <div className="error">{e.error}</div>}
                {e.note && <div className="muted small">{e.note}</div>}
              </td>
              <td>{e.action ?? (e.ran ? `${e.ms ?? 0} ms` : "")}</td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}
