// Users of the admin's tenants: create, spam filter ON/OFF, lists (with the limit shown).
// Users of the configuration file or LDAP keep their entry there: changes made here are their
// override (shown, and resettable); settings the policy locks have no control.
import { useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad } from "../util.tsx";
import { ListEditor } from "./ListEditor.tsx";

interface User {
  address: string;
  tenant: string;
  spamFilter: boolean | null;
  language: string | null;
  whitelist: string[];
  blacklist: string[];
  source: string;
  maxEntries: number;
  locked: { spamFilter: boolean; language: boolean; lists: boolean };
  overridden: { spamFilter: boolean; language: boolean; whitelist: boolean; blacklist: boolean };
}

export function UsersPage() {
  const t = useT();
  const list = useLoad(() => api<{ users: User[] }>("GET", "/api/users"), []);
  const [open, setOpen] = useState<string | null>(null);
  const [address, setAddress] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const run = (p: Promise<unknown>) =>
    p.then(() => (setError(null), list.reload())).catch((e: Error) => setError(e.message));
  const user = list.data?.users.find((u) => u.address === open);
  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          run(api("POST", "/api/users", { address, ...(password ? { password } : {}) }));
        }}
      >
        <input placeholder={t("address")} value={address} onChange={(e) => setAddress(e.target.value)} />
        <input
          placeholder={t("password")}
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit">{t("add")}</button>
      </form>
      <ErrorLine error={error ?? list.error} />
      <Table
        head={[t("address"), "tenant", t("spamFilter"), t("whitelist"), t("blacklist"), t("source"), ""]}
        rows={(list.data?.users ?? []).map((u) => [
          u.address,
          u.tenant,
          u.spamFilter === null ? "-" : u.spamFilter ? t("on") : t("off"),
          `${u.whitelist.length}/${u.maxEntries}`,
          `${u.blacklist.length}/${u.maxEntries}`,
          <>
            {u.source}
            {Object.values(u.overridden).some(Boolean) && <span className="tag">{t("yourChange")}</span>}
          </>,
          <div data-testid={`user-actions-${u.address}`}>
            {!(u.source !== "store" && u.locked.spamFilter) && (
              <button
                onClick={() =>
                  run(
                    api("PUT", `/api/users/${encodeURIComponent(u.address)}`, {
                      spamFilter: !(u.spamFilter ?? true),
                    }),
                  )
                }
              >
                {t("spamFilter")} → {u.spamFilter === false ? t("on") : t("off")}
              </button>
            )}
            {!(u.source !== "store" && u.locked.lists) && (
              <button onClick={() => setOpen(open === u.address ? null : u.address)}>
                {t("whitelist")}/{t("blacklist")}
              </button>
            )}
            {u.source === "store" && (
              <button onClick={() => run(api("DELETE", `/api/users/${encodeURIComponent(u.address)}`))}>
                {t("delete")}
              </button>
            )}
            {u.source !== "store" && Object.values(u.overridden).some(Boolean) && (
              <button
                onClick={() => run(api("DELETE", `/api/users/${encodeURIComponent(u.address)}/override`))}
              >
                {t("resetOverride")}
              </button>
            )}
          </div>,
        ])}
      />
      {user && (
        <div className="row">
          {(["whitelist", "blacklist"] as const).map((k) => (
            <ListEditor
              key={k}
              kind={k}
              entries={user[k]}
              max={user.maxEntries}
              path={`/api/users/${encodeURIComponent(user.address)}/lists/${k}`}
              onSaved={list.reload}
            />
          ))}
        </div>
      )}
    </div>
  );
}
