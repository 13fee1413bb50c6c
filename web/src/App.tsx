// The console shell: login gate, language switch (en/ja), navigation by role and a hash
// router (#/quarantine …). Pages fetch their own data through api.ts.
import { useEffect, useState, type JSX } from "react";
import { logout, whoAmI, type Me } from "./api.ts";
import { initialLang, LangContext, translate, type Lang, type TextKey } from "./i18n.ts";
import { Login } from "./pages/Login.tsx";
import { Dashboard } from "./pages/Dashboard.tsx";
import { LogPage } from "./pages/Log.tsx";
import { QuarantinePage } from "./pages/Quarantine.tsx";
import { HoldPage } from "./pages/Hold.tsx";
import { TenantsPage } from "./pages/Tenants.tsx";
import { TemplatesPage } from "./pages/Templates.tsx";
import { SievePage } from "./pages/Sieve.tsx";
import { UsersPage } from "./pages/Users.tsx";
import { DkimPage } from "./pages/Dkim.tsx";
import { AuditPage } from "./pages/Audit.tsx";
import { PortalPage } from "./pages/Portal.tsx";
import { LinkPage } from "./pages/Link.tsx";
import { NodesPage } from "./pages/Nodes.tsx";
import { AccountsPage } from "./pages/Accounts.tsx";
import { ConfigPage } from "./pages/Config.tsx";

type Page = { key: TextKey; path: string; view: (me: Me) => JSX.Element };

const ADMIN_PAGES: Page[] = [
  { key: "dashboard", path: "dashboard", view: (me) => <Dashboard me={me} /> },
  { key: "log", path: "log", view: (me) => <LogPage me={me} /> },
  { key: "quarantine", path: "quarantine", view: (me) => <QuarantinePage me={me} /> },
  { key: "hold", path: "hold", view: () => <HoldPage /> },
  { key: "tenants", path: "tenants", view: (me) => <TenantsPage me={me} /> },
  { key: "templates", path: "templates", view: (me) => <TemplatesPage me={me} /> },
  { key: "sieve", path: "sieve", view: () => <SievePage /> },
  { key: "users", path: "users", view: () => <UsersPage /> },
  { key: "dkim", path: "dkim", view: (me) => <DkimPage me={me} /> },
  { key: "audit", path: "audit", view: () => <AuditPage /> },
];

const OPERATOR_PAGES: Page[] = [
  { key: "config", path: "config", view: () => <ConfigPage /> },
  { key: "nodes", path: "nodes", view: () => <NodesPage /> },
  { key: "accounts", path: "accounts", view: () => <AccountsPage /> },
];

const USER_PAGES: Page[] = [
  { key: "portal", path: "portal", view: () => <PortalPage /> },
  { key: "quarantine", path: "quarantine", view: (me) => <QuarantinePage me={me} /> },
  { key: "log", path: "log", view: (me) => <LogPage me={me} /> },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash.replace(/^#\/?/, "");
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const hash = useHash();
  useEffect(() => {
    whoAmI().then(setMe);
  }, []);
  useEffect(() => {
    localStorage.setItem("sluice.lang", lang);
    document.documentElement.lang = lang;
    document.title = translate(lang, "title");
  }, [lang]);

  const t = (k: TextKey) => translate(lang, k);
  const pages =
    me?.role === "user"
      ? USER_PAGES
      : me?.role === "operator"
        ? [...ADMIN_PAGES, ...OPERATOR_PAGES]
        : ADMIN_PAGES;
  const linkToken = new URLSearchParams(location.search).get("t");
  const page = pages.find((p) => p.path === hash) ?? pages[0]!;

  return (
    <LangContext.Provider value={lang}>
      <header>
        <strong>{t("title")}</strong>
        <span className="spacer" />
        <select
          aria-label="language"
          data-testid="lang"
          value={lang}
          onChange={(e) => setLang(e.target.value as Lang)}
        >
          <option value="en">English</option>
          <option value="ja">日本語</option>
        </select>
        {me && (
          <>
            <span className="muted" data-testid="whoami">
              {me.subject} ({me.role}
              {me.tenant ? `: ${me.tenant}` : ""})
            </span>
            <button onClick={() => logout().then(() => setMe(null))}>{t("logout")}</button>
          </>
        )}
      </header>
      {linkToken ? (
        <LinkPage token={linkToken} />
      ) : me === undefined ? null : me === null ? (
        <Login onLogin={setMe} />
      ) : (
        <div className="layout">
          <nav>
            {pages.map((p) => (
              <a
                key={p.path}
                href={`#/${p.path}`}
                className={p === page ? "active" : ""}
                data-testid={`nav-${p.path}`}
              >
                {t(p.key)}
              </a>
            ))}
          </nav>
          <main>
            <h1>{t(page.key)}</h1>
            {page.view(me)}
          </main>
        </div>
      )}
    </LangContext.Provider>
  );
}
