// Sieve script editor with a server-side syntax check (line:column: message).
import { useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine } from "../util.tsx";

const SAMPLE = 'require ["fileinto"];\nif header :contains "subject" "invoice" {\n  fileinto "Finance";\n}\n';

export function SievePage() {
  const t = useT();
  const [script, setScript] = useState(SAMPLE);
  const [result, setResult] = useState<{
    ok: boolean;
    errors: { line: number; column: number; message: string }[];
  } | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div>
      <textarea
        rows={16}
        value={script}
        onChange={(e) => setScript(e.target.value)}
        data-testid="sieve-script"
      />
      <button
        className="primary"
        data-testid="sieve-check"
        onClick={() =>
          api<NonNullable<typeof result>>("POST", "/api/tools/sieve-check", { script })
            .then((r) => (setResult(r), setError(null)))
            .catch((e: Error) => setError(e.message))
        }
      >
        {t("check")}
      </button>
      <ErrorLine error={error} />
      {result &&
        (result.ok ? (
          <p className="ok">{t("syntaxOk")}</p>
        ) : (
          <ul className="error" data-testid="sieve-errors">
            {result.errors.map((e, i) => (
              <li key={i}>
                {e.line}:{e.column}: {e.message}
              </li>
            ))}
          </ul>
        ))}
    </div>
  );
}
