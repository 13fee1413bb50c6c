// End-user portal: the own spam filter ON/OFF, language and white/blacklists, for every user —
// built-in, configuration-file or LDAP (their changes are kept as their own override over the
// directory entry). A setting the policy locks shows its value without a control. The own
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
  source: "store" | "config" | "ldap";
  maxEntries: number;
  locked: { spamFilter: boolean; language: boolean; lists: boolean };
  directory: { spamFilter: boolean | null; language: string | null } | null;
  overridden: { spamFilter: boolean; language: boolean; whitelist: boolean; blacklist: boolean };
}

export function PortalPage() {
  const t = useT();
  const s = useLoad(() => api<Settings>("GET", "/api/me/settings"), []);
  const [error, setError] = useState<string | null>(null);
  const data = s.data;
  if (!data) return <ErrorLine error={s.error} />;
  const set = (patch: { spamFilter?: boolean | null; language?: string | null }) =>
    api("PUT", "/api/me/settings", patch)
      .then(() => (setError(null), s.reload()))
      .catch((e: Error) => setError(e.message));
  const onOff = (v: boolean | null | undefined) => (v === false ? t("off") : t("on"));
  return (
    <div>
      <div className="card">
        <h3>
          {t("spamFilter")}:{" "}
          <span data-testid="spam-state">{data.effectiveSpamFilter ? t("on") : t("off")}</span>{" "}
          <span className="muted">({t("effective")})</span>
        </h3>
        {data.locked.spamFilter ? (
          <p className="muted" data-testid="spam-locked">
            {t("lockedByAdmin")}
          </p>
        ) : (
          <>
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
            {data.overridden.spamFilter && data.directory && (
              <span className="muted" data-testid="spam-overridden">
                {t("yourChange")} ({t("directorySays")}: {onOff(data.directory.spamFilter)}){" "}
                <button onClick={() => set({ spamFilter: null })} data-testid="spam-reset">
                  {t("useDirectory")}
                </button>
              </span>
            )}
          </>
        )}
        <p>
          {t("notifyLanguage")}:{" "}
          <select
            value={data.language ?? ""}
            onChange={(e) => set({ language: e.target.value || null })}
            aria-label={t("notifyLanguage")}
            disabled={data.locked.language}
            data-testid="my-language"
          >
            <option value="">-</option>
            <option value="ja">日本語</option>
            <option value="en">English</option>
          </select>
        </p>
        <p className="muted" data-testid="settings-source">
          {t(
            data.source === "ldap" ? "sourceLdap" : data.source === "config" ? "sourceConfig" : "sourceStore",
          )}
        </p>
        <ErrorLine error={error} />
      </div>
      <div className="row">
        {(["whitelist", "blacklist"] as const).map((k) =>
          data.locked.lists ? (
            <div className="card col" key={k} data-testid={`list-${k}`}>
              <h3>{t(k)}</h3>
              <p className="muted">{t("lockedByAdmin")}</p>
              <pre>{data[k].join("\n") || "-"}</pre>
            </div>
          ) : (
            <ListEditor
              key={k}
              kind={k}
              entries={data[k]}
              max={data.maxEntries}
              path={`/api/me/lists/${k}`}
              onSaved={s.reload}
            />
          ),
        )}
      </div>
    </div>
  );
}
