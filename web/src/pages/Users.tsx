// Users of the admin's tenants: create, spam filter ON/OFF, lists (with the limit shown).
// Users from the configuration file or LDAP are shown read-only (the server says why).
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
          u.source,
          u.source === "store" ? (
            <>
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
              <button onClick={() => setOpen(open === u.address ? null : u.address)}>
                {t("whitelist")}/{t("blacklist")}
              </button>
              <button onClick={() => run(api("DELETE", `/api/users/${encodeURIComponent(u.address)}`))}>
                {t("delete")}
              </button>
            </>
          ) : null,
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
