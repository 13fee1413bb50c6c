// Notification templates of a tenant in Japanese and English with a live preview: every
// edit is rendered by the server with sample values; mistakes show their position.
import { useEffect, useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";

type Pair = { subject: string; body: string; configured: boolean };
interface Templates {
  variables: string[];
  templates: Record<string, Record<string, Pair>>;
}

export function TemplatesPage({ me }: { me: Me }) {
  const t = useT();
  const tenants = useLoad(() => api<{ tenants: { id: string }[] }>("GET", "/api/tenants"), []);
  const [tenant, setTenant] = useState(me.tenant ?? "");
  const [kind, setKind] = useState("recipient");
  const [lang, setLang] = useState("ja");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [out, setOut] = useState<{ subject: string; body: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = tenant || tenants.data?.tenants[0]?.id || "";
  const data = useLoad(
    () =>
      chosen
        ? api<Templates>("GET", `/api/tenants/${encodeURIComponent(chosen)}/templates`)
        : Promise.resolve(null),
    [chosen],
  );
  useEffect(() => {
    const p = data.data?.templates[kind]?.[lang];
    if (p) {
      setSubject(p.subject);
      setBody(p.body);
    }
  }, [data.data, kind, lang]);
  useEffect(() => {
    if (!chosen) return;
    const timer = setTimeout(() => {
      api<{ subject: string; body: string }>(
        "POST",
        `/api/tenants/${encodeURIComponent(chosen)}/templates/preview`,
        { subject, body },
      )
        .then((r) => (setOut(r), setError(null)))
        .catch((e: Error) => (setOut(null), setError(e.message)));
    }, 200);
    return () => clearTimeout(timer);
  }, [chosen, subject, body]);
  return (
    <div>
      <div className="row">
        {me.role === "operator" && (
          <select value={chosen} onChange={(e) => setTenant(e.target.value)} aria-label="tenant">
            {(tenants.data?.tenants ?? []).map((x) => (
              <option key={x.id}>{x.id}</option>
            ))}
          </select>
        )}
        <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label={t("kind")}>
          <option value="recipient">recipient</option>
          <option value="sender">sender</option>
          <option value="admin">admin</option>
        </select>
        <select
          value={lang}
          onChange={(e) => setLang(e.target.value)}
          aria-label={t("language")}
          data-testid="tpl-lang"
        >
          <option value="ja">日本語</option>
          <option value="en">English</option>
        </select>
      </div>
      <div className="row">
        <div style={{ flex: 1 }}>
          <label>
            {t("subject")}
            <input
              style={{ width: "100%" }}
              value={subject}
              onChange={(e) => setSubject(e.target.value)}
              data-testid="tpl-subject"
            />
          </label>
          <label>
            {t("body")}
            <textarea
              rows={12}
              value={body}
              onChange={(e) => setBody(e.target.value)}
              data-testid="tpl-body"
            />
          </label>
          <p className="muted">{(data.data?.variables ?? []).map((v) => `{${v}}`).join(" ")}</p>
        </div>
        <div style={{ flex: 1 }} className="card">
          <h3>{t("preview")}</h3>
          <ErrorLine error={error} />
          {out && (
            <>
              <strong data-testid="tpl-preview-subject">{out.subject}</strong>
              <pre data-testid="tpl-preview-body">{out.body}</pre>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
