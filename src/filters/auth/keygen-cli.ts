// What `sluice dkim keygen` and `sluice dkim list` do with an open store: generate a key, seal
// it under the node's secret key, store it for the tenant owning the domain, and describe the
// DNS record to publish. Argument parsing and opening the store stay in src/cli/main.ts.
import type { Config } from "../../config/schema.ts";
import type { Store } from "../../store/types.ts";
import { createStoredKey, dkimKeyTable, loadSecretKey, SECRET_ENV } from "./key-store.ts";
import { DkimKeyError, txtStrings, type DkimKeyType } from "./keygen.ts";

/** `NAME. IN TXT "..." "..."`: the record as a zone file line. */
export function txtRecordLine(domain: string, selector: string, value: string): string {
  const parts = txtStrings(value)
    .map((p) => `"${p}"`)
    .join(" ");
  return `${selector}._domainkey.${domain}. IN TXT ${parts}`;
}

/** The tenant whose domains include the domain or a parent of it, or null. */
export function tenantOfDomain(config: Pick<Config, "tenants">, domain: string): string | null {
  for (let d = domain.toLowerCase(); d.includes("."); d = d.slice(d.indexOf(".") + 1)) {
    const t = config.tenants.find((x) => x.domains.map((y) => y.toLowerCase()).includes(d));
    if (t) return t.id;
  }
  return null;
}

export async function secretKeyOf(config: Pick<Config, "secrets">, env = process.env): Promise<Buffer> {
  const secret = await loadSecretKey({ keyFile: config.secrets?.key_file, env });
  if (!secret)
    throw new DkimKeyError(
      `no secret key to encrypt DKIM keys with: set secrets.key_file in the node's configuration or ${SECRET_ENV} (e.g. \`openssl rand -hex 32\`)`,
    );
  return secret;
}

export interface KeygenArgs {
  domain: string;
  selector: string;
  type: DkimKeyType;
  /** Default: the tenant owning the domain; "" for none. */
  tenant?: string;
}

export async function keygenToStore(
  store: Store,
  config: Pick<Config, "secrets" | "tenants">,
  args: KeygenArgs,
  env = process.env,
): Promise<string> {
  const secret = await secretKeyOf(config, env);
  const domain = args.domain.toLowerCase().replace(/\.$/, "");
  if (!/^([a-z0-9-]+\.)+[a-z0-9-]+$/.test(domain))
    throw new DkimKeyError(`${args.domain}: not a domain name`);
  if (!/^[a-z0-9._-]+$/i.test(args.selector)) throw new DkimKeyError(`${args.selector}: not a DKIM selector`);
  const tenant = args.tenant === undefined ? tenantOfDomain(config, domain) : args.tenant || null;
  const { pair } = await createStoredKey(store, secret, {
    domain,
    selector: args.selector,
    tenant,
    type: args.type,
  });
  return (
    `key ${args.selector}._domainkey.${domain} (${args.type}) stored${tenant ? ` for tenant ${tenant}` : ""}; publish:\n` +
    `${txtRecordLine(domain, args.selector, pair.dnsTxt)}\n`
  );
}

export async function listStoredKeys(store: Store, q: { tenant?: string; domain?: string }): Promise<string> {
  const keys = await dkimKeyTable(store).listDkimKeys(q);
  return keys
    .map(
      (k) =>
        `${k.domain}\t${k.selector}\t${k.algorithm}\t${k.tenant ?? "-"}\t${k.createdAt.toISOString()}\n` +
        `\t${txtRecordLine(k.domain, k.selector, `v=DKIM1; k=${k.algorithm === "rsa-sha256" ? "rsa" : "ed25519"}; p=${k.publicKey}`)}\n`,
    )
    .join("");
}
