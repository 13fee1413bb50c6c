// End-user portal: the own spam filter ON/OFF, language and white/blacklists. The own
// quarantine is the Quarantine page, scoped by the server to this user.
import { useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";
import { ListEditor } from "./ListEditor.tsx";

interface Settings {
  address: string;
  spamFilter: boolean | null;
  effectiveSpamFilter: boolean;
  language: string | null;
  whitelist: string[];
  blacklist: string[];
  source: string;
  maxEntries: number;
}

export function PortalPage() {
  const t = useT();
  const s = useLoad(() => api<Settings>("GET", "/api/me/settings"), []);
  const [error, setError] = useState<string | null>(null);
  const data = s.data;
  if (!data) return <ErrorLine error={s.error} />;
  const set = (patch: { spamFilter?: boolean; language?: string }) =>
    api("PUT", "/api/me/settings", patch)
      .then(() => (setError(null), s.reload()))
      .catch((e: Error) => setError(e.message));
  return (
    <div>
      <div className="card">
        <h3>
          {t("spamFilter")}:{" "}
          <span data-testid="spam-state">{data.effectiveSpamFilter ? t("on") : t("off")}</span>{" "}
          <span className="muted">({t("effective")})</span>
        </h3>
        <button
          className={data.effectiveSpamFilter ? "primary" : ""}
          onClick={() => set({ spamFilter: true })}
          data-testid="spam-on"
        >
          {t("on")}
        </button>
        <button
          className={data.effectiveSpamFilter ? "" : "primary"}
          onClick={() => set({ spamFilter: false })}
          data-testid="spam-off"
        >
          {t("off")}
        </button>
        <p>
          {t("notifyLanguage")}:{" "}
          <select
            value={data.language ?? ""}
            onChange={(e) => set({ language: e.target.value })}
            aria-label={t("notifyLanguage")}
            disabled={data.source !== "store"}
          >
            {data.language === null && <option value="">-</option>}
            <option value="ja">日本語</option>
            <option value="en">English</option>
          </select>
        </p>
        <ErrorLine error={error} />
      </div>
      <div className="row">
        <ListEditor
          kind="whitelist"
          entries={data.whitelist}
          max={data.maxEntries}
          path="/api/me/lists/whitelist"
          onSaved={s.reload}
        />
        <ListEditor
          kind="blacklist"
          entries={data.blacklist}
          max={data.maxEntries}
          path="/api/me/lists/blacklist"
          onSaved={s.reload}
        />
      </div>
    </div>
  );
}
