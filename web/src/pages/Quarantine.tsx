// Quarantine: list, safe preview (plain text in <pre>; sanitised HTML in an <iframe
// sandbox=""> whose document carries a CSP blocking every load), release, delete, learn.
// Subjects and addresses are rendered as React text, never as HTML.
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Item {
  id: string;
  createdAt: string;
  sender: string;
  subject: string | null;
  score: number;
  symbols: { name: string; score: number }[];
  recipients: { address: string; state: string; reason: string }[];
}

interface Preview {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

export function QuarantinePage({ me }: { me: Me }) {
  const t = useT();
  const [state, setState] = useState("quarantined");
  const [recipient, setRecipient] = useState("");
  const [query, setQuery] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<(Preview & { id: string }) | null>(null);
  const [tab, setTab] = useState<"text" | "html">("text");
  const list = useLoad(
    () => api<{ items: Item[] }>("GET", `/api/quarantine?limit=200${state ? `&state=${state}` : ""}${query}`),
    [state, query],
  );

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
        list.reload();
      })
      .catch((e: Error) => setError(e.message));

  const show = (id: string) =>
    api<Preview>("GET", `/api/quarantine/${encodeURIComponent(id)}/preview`)
      .then((p) => {
        setPreview({ ...p, id });
        setTab(p.html ? "html" : "text");
      })
      .catch((e: Error) => setError(e.message));

  return (
    <div>
      <div className="row">
        <select value={state} onChange={(e) => setState(e.target.value)} aria-label={t("state")}>
          <option value="quarantined">quarantined</option>
          <option value="released">released</option>
          <option value="deleted">deleted</option>
          <option value="">*</option>
        </select>
        {me.role !== "user" && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              setQuery(recipient ? `&recipient=${encodeURIComponent(recipient)}` : "");
            }}
          >
            <input
              placeholder={t("recipient")}
              value={recipient}
              onChange={(e) => setRecipient(e.target.value)}
            />
            <button type="submit">{t("search")}</button>
          </form>
        )}
      </div>
      <ErrorLine error={error ?? list.error} />
      {message && (
        <p className="ok" data-testid="q-message">
          {message}
        </p>
      )}
      <Table
        head={[t("date"), t("sender"), t("subject"), t("recipient"), t("score"), t("symbols"), ""]}
        rows={(list.data?.items ?? []).map((q) => [
          when(q.createdAt),
          q.sender,
          <span data-testid="q-subject">{q.subject ?? ""}</span>,
          q.recipients.map((r) => (
            <div key={r.address}>
              {r.address} <span className="tag">{r.state}</span>
            </div>
          )),
          q.score.toFixed(1),
          q.symbols.map((s) => (
            <span key={s.name} className="tag">
              {s.name}
            </span>
          )),
          <div data-testid={`q-actions-${q.id}`}>
            <button onClick={() => show(q.id)} data-testid="q-preview">
              {t("preview")}
            </button>
            <button className="primary" onClick={() => act(q.id, "release")} data-testid="q-release">
              {t("release")}
            </button>
            {me.role !== "user" && (
              <button onClick={() => act(q.id, "release", { learnAsHam: true })}>{t("releaseLearn")}</button>
            )}
            <button onClick={() => act(q.id, "delete")} data-testid="q-delete">
              {t("delete")}
            </button>
            <button onClick={() => act(q.id, "report-spam")}>{t("reportSpam")}</button>
          </div>,
        ])}
      />
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
