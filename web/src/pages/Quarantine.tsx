// Quarantine for thousands of entries: searched (subject, sender, recipient, id), sorted and
// paged by the server; bulk release, delete and learning; a reason column; symbols collapsed to
// the strongest three. Buttons appear only where the server says the action can succeed for
// this caller (e.g. no release of virus mail for an end user). Safe preview: plain text in
// <pre>, sanitised HTML in an <iframe sandbox=""> whose document carries a CSP blocking every
// load. Subjects and addresses are React text, never HTML.
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Pager, SortHeader, Symbols, useLoad, when } from "../util.tsx";

interface Allowed {
  release: boolean;
  releaseLearn: boolean;
  delete: boolean;
  reportSpam: boolean;
  releaseNote: string | null;
}

interface Item {
  id: string;
  tenant: string | null;
  createdAt: string;
  sender: string;
  subject: string | null;
  score: number;
  symbols: { name: string; score: number; detail?: string }[];
  recipients: { address: string; state: string; reason: string }[];
  allowed: Allowed;
}

interface Preview {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

type Bulk = "release" | "release-learn" | "delete" | "report-spam";
const PAGE = 50;

export function QuarantinePage({ me }: { me: Me }) {
  const t = useT();
  const [state, setState] = useState("quarantined");
  const [text, setText] = useState("");
  const [recipient, setRecipient] = useState("");
  const [query, setQuery] = useState({ q: "", recipient: "" });
  const [sort, setSort] = useState<{ field: string; order: "asc" | "desc" }>({
    field: "created",
    order: "desc",
  });
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<(Preview & { id: string }) | null>(null);
  const [tab, setTab] = useState<"text" | "html">("text");
  const params = new URLSearchParams({
    limit: String(PAGE),
    offset: String(offset),
    sort: sort.field,
    order: sort.order,
  });
  if (state) params.set("state", state);
  if (query.q) params.set("q", query.q);
  if (query.recipient && me.role !== "user") params.set("recipient", query.recipient);
  const list = useLoad(
    () => api<{ items: Item[]; total: number }>("GET", `/api/quarantine?${params}`),
    [params.toString()],
  );
  const items = list.data?.items ?? [];
  const picked = items.filter((i) => chosen.has(i.id));
  const reload = () => (setChosen(new Set()), list.reload());

  const act = (id: string, path: string, body: unknown = {}) =>
    api<{ released?: string[]; failed?: { address: string; reason: string }[] }>(
      "POST",
      `/api/quarantine/${encodeURIComponent(id)}/${path}`,
      body,
    )
      .then((r) => {
        setError(null);
        setMessage(
          r.released
            ? `${t("released")}: ${r.released.join(", ") || "-"}${r.failed?.length ? ` / ${t("failed")}: ${r.failed.map((f) => `${f.address} (${f.reason})`).join(", ")}` : ""}`
            : t("saved"),
        );
        reload();
      })
      .catch((e: Error) => setError(e.message));

  const bulk = (action: Bulk) =>
    api<{ ok: number; failed: number; results: { id: string; ok: boolean; detail?: string }[] }>(
      "POST",
      "/api/quarantine/bulk",
      { ids: picked.map((i) => i.id), action },
    )
      .then((r) => {
        setError(null);
        const bad = r.results.filter((x) => !x.ok);
        setMessage(
          `${t("done")}: ${r.ok}${bad.length ? ` / ${t("failed")}: ${bad.map((b) => `${b.id} (${b.detail ?? ""})`).join(", ")}` : ""}`,
        );
        reload();
      })
      .catch((e: Error) => setError(e.message));

  const show = (id: string) =>
    api<Preview>("GET", `/api/quarantine/${encodeURIComponent(id)}/preview`)
      .then((p) => {
        setPreview({ ...p, id });
        setTab(p.html ? "html" : "text");
      })
      .catch((e: Error) => setError(e.message));

  const every = (k: keyof Allowed) => picked.length > 0 && picked.every((i) => i.allowed[k]);
  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
  };

  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setQuery({ q: text.trim(), recipient: recipient.trim() });
        }}
      >
        <input
          placeholder={t("searchQuarantine")}
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="q-search"
          className="grow"
        />
        {me.role !== "user" && (
          <input
            placeholder={t("recipient")}
            value={recipient}
            onChange={(e) => setRecipient(e.target.value)}
            data-testid="q-recipient"
          />
        )}
        <select
          value={state}
          onChange={(e) => (setOffset(0), setState(e.target.value))}
          aria-label={t("state")}
        >
          <option value="quarantined">{t("stQuarantined")}</option>
          <option value="released">{t("stReleased")}</option>
          <option value="deleted">{t("stDeleted")}</option>
          <option value="">*</option>
        </select>
        <button type="submit" data-testid="q-search-submit">
          {t("search")}
        </button>
      </form>
      <ErrorLine error={error ?? list.error} />
      {message && (
        <p className="ok" data-testid="q-message">
          {message}
        </p>
      )}
      <div className="row bulk" data-testid="q-bulk">
        <span className="muted">
          {picked.length} {t("selected")}
        </span>
        {every("release") && (
          <button className="primary" onClick={() => bulk("release")} data-testid="bulk-release">
            {t("release")}
          </button>
        )}
        {every("releaseLearn") && (
          <button onClick={() => bulk("release-learn")} data-testid="bulk-release-learn">
            {t("releaseLearn")}
          </button>
        )}
        {every("delete") && (
          <button onClick={() => bulk("delete")} data-testid="bulk-delete">
            {t("delete")}
          </button>
        )}
        {picked.length > 0 && (
          <button onClick={() => bulk("report-spam")} data-testid="bulk-report-spam">
            {t("reportSpam")}
          </button>
        )}
        <span className="spacer" />
        {list.data && (
          <Pager
            offset={offset}
            limit={PAGE}
            total={list.data.total}
            onPage={(o) => (setChosen(new Set()), setOffset(o))}
          />
        )}
      </div>
      {items.length === 0 ? (
        <p className="muted">{t("nothing")}</p>
      ) : (
        <table className="data" data-testid="q-table">
          <colgroup>
            <col style={{ width: "3%" }} />
            <col style={{ width: "10%" }} />
            <col style={{ width: "13%" }} />
            <col />
            <col style={{ width: "15%" }} />
            <col style={{ width: "11%" }} />
            <col style={{ width: "5%" }} />
            <col style={{ width: "14%" }} />
            <col style={{ width: "9%" }} />
          </colgroup>
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label={t("selectAll")}
                  data-testid="q-select-all"
                  checked={items.length > 0 && items.every((i) => chosen.has(i.id))}
                  onChange={(e) => setChosen(new Set(e.target.checked ? items.map((i) => i.id) : []))}
                />
              </th>
              <SortHeader
                label={t("date")}
                field="created"
                sort={sort}
                onSort={(s) => (setOffset(0), setSort(s))}
              />
              <SortHeader
                label={t("sender")}
                field="sender"
                sort={sort}
                onSort={(s) => (setOffset(0), setSort(s))}
              />
              <SortHeader
                label={t("subject")}
                field="subject"
                sort={sort}
                onSort={(s) => (setOffset(0), setSort(s))}
              />
              <th>{t("recipient")}</th>
              <th>{t("reason")}</th>
              <SortHeader
                label={t("score")}
                field="score"
                sort={sort}
                onSort={(s) => (setOffset(0), setSort(s))}
              />
              <th>{t("symbols")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((q) => (
              <tr key={q.id} data-testid={`q-row-${q.id}`}>
                <td>
                  <input
                    type="checkbox"
                    checked={chosen.has(q.id)}
                    onChange={() => toggle(q.id)}
                    aria-label={q.id}
                    data-testid="q-check"
                  />
                </td>
                <td>{when(q.createdAt)}</td>
                <td>{q.sender || "<>"}</td>
                <td>
                  <span data-testid="q-subject">{q.subject ?? ""}</span>
                  <div className="muted small">
                    {q.id}
                    {me.role === "operator" && q.tenant ? ` · ${q.tenant}` : ""}
                  </div>
                </td>
                <td>
                  {q.recipients.map((r) => (
                    <div key={r.address}>
                      {r.address} <span className="tag">{r.state}</span>
                    </div>
                  ))}
                </td>
                <td data-testid="q-reason">{[...new Set(q.recipients.map((r) => r.reason))].join("; ")}</td>
                <td>{q.score.toFixed(1)}</td>
                <td>
                  <Symbols symbols={q.symbols} />
                </td>
                <td data-testid={`q-actions-${q.id}`} className="actions">
                  <button onClick={() => show(q.id)} data-testid="q-preview">
                    {t("preview")}
                  </button>
                  {q.allowed.release && (
                    <button className="primary" onClick={() => act(q.id, "release")} data-testid="q-release">
                      {t("release")}
                    </button>
                  )}
                  {q.allowed.delete && (
                    <button onClick={() => act(q.id, "delete")} data-testid="q-delete">
                      {t("delete")}
                    </button>
                  )}
                  {q.allowed.releaseNote === "admin-only" && (
                    <div className="muted small" data-testid="q-admin-only">
                      {t("adminOnly")}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {preview && (
        <div className="card preview" data-testid="preview">
          <div className="row">
            <strong data-testid="preview-subject">{preview.subject}</strong>
            <span className="spacer" />
            <button onClick={() => setTab("text")}>{t("plainText")}</button>
            {preview.html !== null && (
              <button onClick={() => setTab("html")} data-testid="preview-html-tab">
                {t("html")}
              </button>
            )}
            <button onClick={() => setPreview(null)}>{t("close")}</button>
          </div>
          <div className="muted">
            {preview.from} → {preview.to}
          </div>
          {(() => {
            const q = items.find((i) => i.id === preview.id);
            return (
              q && (
                <div className="row" data-testid="preview-actions">
                  {q.allowed.release && (
                    <button className="primary" onClick={() => act(q.id, "release")}>
                      {t("release")}
                    </button>
                  )}
                  {q.allowed.releaseLearn && (
                    <button
                      onClick={() => act(q.id, "release", { learnAsHam: true })}
                      data-testid="q-release-learn"
                    >
                      {t("releaseLearn")}
                    </button>
                  )}
                  {q.allowed.delete && <button onClick={() => act(q.id, "delete")}>{t("delete")}</button>}
                  <button onClick={() => act(q.id, "report-spam")} data-testid="q-report-spam">
                    {t("reportSpam")}
                  </button>
                </div>
              )
            );
          })()}
          {tab === "html" && preview.html !== null ? (
            <iframe
              sandbox=""
              srcDoc={preview.html}
              title={t("html")}
              data-testid="preview-frame"
              referrerPolicy="no-referrer"
            />
          ) : (
            <pre data-testid="preview-text">{preview.text}</pre>
          )}
          {preview.attachments.map((a, i) => (
            <span key={i} className="tag">
              {a.filename ?? "(unnamed)"} {a.contentType} {a.size} B
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
