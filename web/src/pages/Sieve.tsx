// Sieve script editor with a server-side check: errors and warnings shown inline under the line
// they are on, with a caret at the column; clicking one puts the cursor there in the editor.
import { useRef, useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine } from "../util.tsx";

const SAMPLE = 'require ["fileinto"];\nif header :contains "subject" "invoice" {\n  fileinto "Finance";\n}\n';

interface Diagnostic {
  line: number;
  column: number;
  message: string;
  /** Set when the problem is in an included script. */
  script?: string;
}
interface CheckResult {
  ok: boolean;
  errors: Diagnostic[];
  warnings?: Diagnostic[];
}
type Marked = Diagnostic & { severity: "error" | "warning" };

export function SievePage() {
  const t = useT();
  const editor = useRef<HTMLTextAreaElement>(null);
  const [script, setScript] = useState(SAMPLE);
  const [checked, setChecked] = useState<{ script: string; result: CheckResult } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const jump = (d: Diagnostic) => {
    const area = editor.current;
    if (!area || d.script) return;
    const lines = script.split("\n");
    const offset = lines.slice(0, d.line - 1).reduce((n, l) => n + l.length + 1, 0) + d.column - 1;
    area.focus();
    area.setSelectionRange(offset, offset);
  };

  const result = checked?.result;
  const marked: Marked[] = result
    ? [
        ...result.errors.map((d) => ({ ...d, severity: "error" as const })),
        ...(result.warnings ?? []).map((d) => ({ ...d, severity: "warning" as const })),
      ]
    : [];
  // Problems in included scripts cannot be shown under a line of this one: listed first.
  const elsewhere = marked.filter((d) => d.script);
  const byLine = new Map<number, Marked[]>();
  for (const d of marked.filter((x) => !x.script)) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);

  const label = (d: Marked) =>
    `${d.line}:${d.column}: ${t(d.severity === "error" ? "sieveError" : "sieveWarning")}: ${d.message}`;

  return (
    <div>
      <textarea
        ref={editor}
        rows={16}
        value={script}
        onChange={(e) => setScript(e.target.value)}
        data-testid="sieve-script"
      />
      <button
        className="primary"
        data-testid="sieve-check"
        onClick={() =>
          api<CheckResult>("POST", "/api/tools/sieve-check", { script })
            .then((r) => (setChecked({ script, result: r }), setError(null)))
            .catch((e: Error) => setError(e.message))
        }
      >
        {t("check")}
      </button>
      <ErrorLine error={error} />
      {result && result.ok && marked.length === 0 && <p className="ok">{t("syntaxOk")}</p>}
      {result && !result.ok && (
        // Kept for scripts and tests that read the plain list of errors.
        <ul className="error" data-testid="sieve-errors">
          {result.errors.map((e, i) => (
            <li key={i}>
              {e.script ? `${e.script}:` : ""}
              {e.line}:{e.column}: {e.message}
            </li>
          ))}
        </ul>
      )}
      {elsewhere.length > 0 && (
        <ul data-testid="sieve-included">
          {elsewhere.map((d, i) => (
            <li key={i} className={d.severity === "error" ? "error" : "diag warning"}>
              {d.script}:{label(d)}
            </li>
          ))}
        </ul>
      )}
      {checked && marked.length > elsewhere.length && (
        <div className="sieve-lines" data-testid="sieve-inline">
          {checked.script.split("\n").map((text, i) => {
            const here = byLine.get(i + 1) ?? [];
            const worst = here.some((d) => d.severity === "error") ? "error" : "warning";
            return (
              <div key={i}>
                <div className={here.length ? `marked ${worst}` : undefined}>
                  <span className="ln">{i + 1}</span>
                  {text}
                </div>
                {here.map((d, k) => (
                  <div
                    key={k}
                    className={`diag ${d.severity}`}
                    data-testid={`sieve-${d.severity}`}
                    title={t("check")}
                    onClick={() => jump(d)}
                  >
                    <span className="ln" />
                    <span className={d.severity === "error" ? "error" : undefined}>
                      {" ".repeat(Math.max(0, d.column - 1))}^ {label(d)}
                    </span>
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
