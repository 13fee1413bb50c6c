// Console accounts (operators only): list, create operators and tenant admins, reset a
// password. Passwords go to the server once and are stored scrypt-hashed.
import { useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Account {
  login: string;
  role: string;
  tenant: string | null;
  createdAt: string;
}

export function AccountsPage() {
  const t = useT();
  const list = useLoad(() => api<{ accounts: Account[] }>("GET", "/api/accounts"), []);
  const [login, setLogin] = useState("");
  const [role, setRole] = useState("tenant_admin");
  const [tenant, setTenant] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          api("POST", "/api/accounts", {
            login,
            role,
            password,
            ...(role === "tenant_admin" ? { tenant } : {}),
          })
            .then(() => (setError(null), setPassword(""), list.reload()))
            .catch((err: Error) => setError(err.message));
        }}
      >
        <input placeholder="login" value={login} onChange={(e) => setLogin(e.target.value)} />
        <select value={role} onChange={(e) => setRole(e.target.value)} aria-label="role">
          <option value="tenant_admin">tenant_admin</option>
          <option value="operator">operator</option>
        </select>
        {role === "tenant_admin" && (
          <input placeholder="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} />
        )}
        <input
          type="password"
          placeholder={t("password")}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit">{t("save")}</button>
      </form>
      <ErrorLine error={error ?? list.error} />
      <Table
        head={["login", "role", "tenant", t("date")]}
        rows={(list.data?.accounts ?? []).map((a) => [a.login, a.role, a.tenant ?? "", when(a.createdAt)])}
      />
    </div>
  );
}
