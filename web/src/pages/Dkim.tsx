// DKIM key generation for one of the tenant's domains: shows the DNS TXT record to publish
// and the private key once (the server keeps only the audit entry with the public key).
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";

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
  const [key, setKey] = useState<{ name: string; dnsTxt: string; privatePem: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = all.find((d) => d.domain === domain) ?? all[0];
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
          <h3>{t("privateKey")}</h3>
          <pre>{key.privatePem}</pre>
        </div>
      )}
    </div>
  );
}
