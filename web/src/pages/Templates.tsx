// Notice templates of a tenant, every kind (virus, digest, hold, Sieve), in Japanese and English:
// an editor with a live preview rendered by the server with the kind's sample values (mistakes
// show their position), and every stored template rendered side by side in both languages.
import { useEffect, useState } from "react";
import { api, type Me } from "../api.ts";
import { useT, type TextKey } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";

type Pair = { subject: string; body: string; configured: boolean };
type Rendered = { subject: string; body: string };
interface Kind {
  kind: string;
  group: string;
  where: string | null;
  variables: string[];
  rendered: Record<string, Rendered>;
}
interface Templates {
  kinds: Kind[];
  templates: Record<string, Record<string, Pair>>;
}

const GROUP: Record<string, TextKey> = {
  virus: "tplVirus",
  digest: "tplDigest",
  hold: "tplHold",
  sieve: "tplSieve",
};

export function TemplatesPage({ me }: { me: Me }) {
  const t = useT();
  const tenants = useLoad(() => api<{ tenants: { id: string }[] }>("GET", "/api/tenants"), []);
  const [tenant, setTenant] = useState(me.tenant ?? "");
  const [kind, setKind] = useState("recipient");
  const [lang, setLang] = useState("ja");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [out, setOut] = useState<Rendered | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = tenant || tenants.data?.tenants[0]?.id || "";
  const data = useLoad(
    () =>
      chosen
        ? api<Templates>("GET", `/api/tenants/${encodeURIComponent(chosen)}/templates`)
        : Promise.resolve(null),
    [chosen],
  );
  const current = data.data?.kinds.find((k) => k.kind === kind);
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
      api<Rendered>("POST", `/api/tenants/${encodeURIComponent(chosen)}/templates/preview`, {
        kind,
        lang,
        subject,
        body,
      })
        .then((r) => (setOut(r), setError(null)))
        .catch((e: Error) => (setOut(null), setError(e.message)));
    }, 200);
    return () => clearTimeout(timer);
  }, [chosen, kind, lang, subject, body]);
  const label = (k: Kind) =>
    `${t(GROUP[k.group] ?? "tplSieve")}: ${k.group === "sieve" ? k.kind.slice(6) : k.kind}`;
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
        <select
          value={kind}
          onChange={(e) => setKind(e.target.value)}
          aria-label={t("kind")}
          data-testid="tpl-kind"
        >
          {(data.data?.kinds ?? []).map((k) => (
            <option key={k.kind} value={k.kind}>
              {label(k)}
            </option>
          ))}
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
        {current && (
          <span className="muted" data-testid="tpl-where">
            {current.where ?? t("builtIn")}
            {data.data?.templates[kind]?.[lang]?.configured ? "" : ` (${t("builtIn")})`}
          </span>
        )}
      </div>
      <div className="row">
        <div className="col">
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
          <p className="muted">{(current?.variables ?? []).map((v) => `{${v}}`).join(" ")}</p>
        </div>
        <div className="card col">
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
      <h2>{t("tplAll")}</h2>
      <ErrorLine error={data.error} />
      {(data.data?.kinds ?? []).map((k) => (
        <div className="card" key={k.kind} data-testid={`tpl-all-${k.kind}`}>
          <h3>{label(k)}</h3>
          <div className="row">
            {(["ja", "en"] as const).map((l) => (
              <div className="col" key={l} data-testid={`tpl-all-${k.kind}-${l}`}>
                <div className="muted">{l === "ja" ? "日本語" : "English"}</div>
                <strong>{k.rendered[l]?.subject}</strong>
                <pre>{k.rendered[l]?.body}</pre>
              </div>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
