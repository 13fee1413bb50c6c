// DKIM keys of the tenant's domains: the keys kept in the store (sealed; the signer uses
// them) with their DNS records, and generation — into the store when the node has a secret
// key, else the private key is shown once for manual installation.
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

export function DkimPage({ me }: { me: Me }) {
  const t = useT();
  const tenants = useLoad(
    () => api<{ tenants: { id: string; domains: string[] }[] }>("GET", "/api/tenants"),
    [],
  );
  const all = (tenants.data?.tenants ?? []).flatMap((x) =>
    x.domains.map((d) => ({ tenant: x.id, domain: d })),
  );
  const [domain, setDomain] = useState("");
  const [selector, setSelector] = useState("sluice1");
  const [type, setType] = useState("rsa");
  const [key, setKey] = useState<{
    name: string;
    dnsTxt: string;
    privatePem: string | null;
    stored: boolean;
  } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = all.find((d) => d.domain === domain) ?? all[0];
  const keys = useLoad(
    () =>
      chosen
        ? api<{ keys: { name: string; algorithm: string; dnsTxt: string; createdAt: string }[] }>(
            "GET",
            `/api/tenants/${encodeURIComponent(chosen.tenant)}/dkim-keys`,
          )
        : Promise.resolve({ keys: [] }),
    [chosen?.tenant, key],
  );
  return (
    <div>
      <div className="row">
        <select
          value={chosen?.domain ?? ""}
          onChange={(e) => setDomain(e.target.value)}
          aria-label={t("domain")}
        >
          {all.map((d) => (
            <option key={d.domain} value={d.domain}>
              {d.domain}
              {me.role === "operator" ? ` (${d.tenant})` : ""}
            </option>
          ))}
        </select>
        <input value={selector} onChange={(e) => setSelector(e.target.value)} aria-label={t("selector")} />
        <select value={type} onChange={(e) => setType(e.target.value)} aria-label="type">
          <option value="rsa">RSA 2048</option>
          <option value="ed25519">Ed25519</option>
        </select>
        <button
          className="primary"
          disabled={!chosen}
          onClick={() =>
            chosen &&
            api<NonNullable<typeof key>>(
              "POST",
              `/api/tenants/${encodeURIComponent(chosen.tenant)}/dkim-keygen`,
              {
                domain: chosen.domain,
                selector,
                type,
              },
            )
              .then((k) => (setKey(k), setError(null)))
              .catch((e: Error) => setError(e.message))
          }
        >
          {t("generate")}
        </button>
      </div>
      <ErrorLine error={error ?? tenants.error} />
      {key && (
        <div className="card">
          <h3>{t("dnsRecord")}</h3>
          <pre>
            {key.name}. IN TXT "{key.dnsTxt}"
          </pre>
          {key.privatePem !== null ? (
            <>
              <h3>{t("privateKey")}</h3>
              <pre>{key.privatePem}</pre>
            </>
          ) : (
            <p className="ok">{t("keyStored")}</p>
          )}
        </div>
      )}
      <Table
        head={[t("dnsRecord"), "", t("date")]}
        rows={(keys.data?.keys ?? []).map((k) => [k.name, <code>{k.dnsTxt}</code>, when(k.createdAt)])}
      />
    </div>
  );
}
