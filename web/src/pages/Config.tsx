// Configuration revisions (operators): edit the cluster sections (policy, roles, tenants,
// directory, limits) of a role as YAML, publish (every issue shown with line and path, nothing
// stored unless valid), see the history and roll back.
import { useEffect, useState } from "react";
import { api, ApiError } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Rev {
  rev: number;
  role: string;
  author: string;
  note: string | null;
  createdAt: string;
}

export function ConfigPage() {
  const t = useT();
  const list = useLoad(() => api<{ nodeRole: string; revisions: Rev[] }>("GET", "/api/config/revisions"), []);
  const [role, setRole] = useState("");
  const [text, setText] = useState("");
  const [note, setNote] = useState("");
  const [issues, setIssues] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const chosen = role || list.data?.nodeRole || "default";
  const latest = list.data?.revisions.find((r) => r.role === chosen);
  useEffect(() => {
    if (latest)
      api<{ text: string }>("GET", `/api/config/revisions/${latest.rev}`).then((r) => setText(r.text));
  }, [latest?.rev]);
  const fail = (e: Error) => {
    setDone(null);
    setError(e.message);
  };
  const publish = () =>
    fetchPublish(chosen, text, note)
      .then((r) => (setIssues([]), setError(null), setDone(`rev ${r.rev}`), list.reload()))
      .catch((e: Error & { issues?: string[] }) => (setIssues(e.issues ?? []), fail(e)));
  return (
    <div>
      <div className="row">
        <input value={chosen} onChange={(e) => setRole(e.target.value)} aria-label="role" />
        <input placeholder="note" value={note} onChange={(e) => setNote(e.target.value)} />
        <button className="primary" onClick={publish} data-testid="config-publish">
          {t("save")}
        </button>
      </div>
      <textarea rows={20} value={text} onChange={(e) => setText(e.target.value)} data-testid="config-text" />
      <ErrorLine error={error ?? list.error} />
      {issues.length > 0 && (
        <ul className="error" data-testid="config-issues">
          {issues.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      )}
      {done && <p className="ok">{done}</p>}
      <Table
        head={["rev", "role", t("actor"), "note", t("date"), ""]}
        rows={(list.data?.revisions ?? []).map((r) => [
          r.rev,
          r.role,
          r.author,
          r.note ?? "",
          when(r.createdAt),
          <button
            onClick={() => api("POST", "/api/config/rollback", { rev: r.rev }).then(list.reload).catch(fail)}
          >
            rollback
          </button>,
        ])}
      />
    </div>
  );
}

/** Publish, keeping the server's list of issues on a 422. */
async function fetchPublish(role: string, text: string, note: string): Promise<Rev> {
  try {
    return await api<Rev>("POST", "/api/config/revisions", { role, text, ...(note ? { note } : {}) });
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) Object.assign(e, { issues: e.extra.issues });
    throw e;
  }
}
