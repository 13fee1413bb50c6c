// The login form: console accounts and end users (directory credentials) alike.
import { useState } from "react";
import { login, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine } from "../util.tsx";

export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="card login"
      onSubmit={(e) => {
        e.preventDefault();
        login(name, password)
          .then(onLogin)
          .catch((err: Error) => setError(err.message));
      }}
    >
      <h1>{t("login")}</h1>
      <label>
        {t("loginName")}
        <input name="login" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t("password")}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {location.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(location.hostname) && (
        <p className="error">{t("needHttps")}</p>
      )}
      <ErrorLine error={error} />
      <button className="primary" type="submit" data-testid="login-submit">
        {t("login")}
      </button>
    </form>
  );
}
