// The page behind digest and hold-notice links (?t=TOKEN): says what the link will do and
// acts only when the person confirms (a link scanner's GET changes nothing). "view" links
// show the message's safe preview straight away.
import { useEffect, useState } from "react";
import { api } from "../api.ts";
import { useT, type TextKey } from "../i18n.ts";
import { ErrorLine } from "../util.tsx";

interface Result {
  kind: string;
  status?: string;
  preview?: { subject: string; from: string; text: string; html: string | null };
}

function kindOf(token: string): string {
  try {
    const body = token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/");
    return String((JSON.parse(atob(body)) as { k?: string }).k ?? "");
  } catch {
    return "";
  }
}

const LABEL: Record<string, TextKey> = { release: "release", send: "sendNow", cancel: "cancel" };

export function LinkPage({ token }: { token: string }) {
  const t = useT();
  const kind = kindOf(token);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const redeem = () =>
    api<Result>("POST", "/api/links/redeem", { t: token })
      .then(setResult)
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    if (kind === "view") void redeem();
  }, [kind]);
  return (
    <main className="card login" data-testid="link-page">
      <ErrorLine error={error} />
      {!result && kind in LABEL && (
        <button className="primary" onClick={redeem} data-testid="link-confirm">
          {t(LABEL[kind]!)}
        </button>
      )}
      {result?.status && <p data-testid="link-status">{result.status}</p>}
      {result?.preview && (
        <div className="preview">
          <strong>{result.preview.subject}</strong>
          <div className="muted">{result.preview.from}</div>
          {result.preview.html !== null ? (
            <iframe sandbox="" srcDoc={result.preview.html} title={t("html")} referrerPolicy="no-referrer" />
          ) : (
            <pre>{result.preview.text}</pre>
          )}
        </div>
      )}
    </main>
  );
}
