// Editing one white/blacklist: one entry per line, the limit shown ("3 entries of at most
// 20"), the server's refusal (limit exceeded, bad entry) shown as it comes.
import { useEffect, useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine } from "../util.tsx";

export function ListEditor(props: {
  kind: "whitelist" | "blacklist";
  entries: string[];
  max: number;
  path: string;
  onSaved?: () => void;
}) {
  const t = useT();
  const [text, setText] = useState(props.entries.join("\n"));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setText(props.entries.join("\n")), [props.entries]);
  const entries = text
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  return (
    <div className="card" style={{ flex: 1 }} data-testid={`list-${props.kind}`}>
      <h3>{t(props.kind)}</h3>
      <textarea
        rows={8}
        value={text}
        onChange={(e) => (setText(e.target.value), setSaved(false))}
        placeholder={t("onePerLine")}
      />
      <p className={entries.length > props.max ? "error" : "muted"} data-testid="list-count">
        {entries.length} {t("entriesOf")} {props.max}
      </p>
      <ErrorLine error={error} />
      {saved && <p className="ok">{t("saved")}</p>}
      <button
        className="primary"
        onClick={() =>
          api("PUT", props.path, { entries })
            .then(() => (setError(null), setSaved(true), props.onSaved?.()))
            .catch((e: Error) => setError(e.message))
        }
      >
        {t("save")}
      </button>
    </div>
  );
}
