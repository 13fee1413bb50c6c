// DKIM signatures on the notices Sluice writes itself (virus, hold, digest, Sieve): signed as the
// tenant whose From domain the notice carries, with that tenant's key for the domain — a stored
// key (`sluice dkim keygen`, the console) of the tenant, else a key file of the dkim_sign options
// in force for the tenant. No key, or `notices.dkim: false`: the notice goes unsigned. Never
// refuses a notice: a signing error is logged and the notice leaves unsigned.
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Config, PolicySpec, TenantConfig } from "../config/schema.ts";
import { signMessage } from "../filters/auth/sign.ts";
import { loadDkimKey } from "../filters/auth/keygen.ts";
import type { KeySource } from "../filters/auth/key-store.ts";

export type NoticeSigner = (message: Buffer) => Promise<Buffer>;

const HEADERS = [
  "from",
  "to",
  "subject",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "auto-submitted",
];

/** The address domain of the first From field of a rendered message (null: none or several). */
export function noticeFromDomain(message: Buffer): string | null {
  const end = message.indexOf("\r\n\r\n");
  const head = message
    .subarray(0, end < 0 ? message.length : end)
    .toString("latin1")
    .replace(/\r\n[ \t]+/g, " ");
  const from = /^from:(.*)$/im.exec(head)?.[1] ?? "";
  const addrs = [...from.replace(/"(?:[^"\\]|\\.)*"/g, "").matchAll(/[^\s<>,;:"()]+@([^\s<>,;:"()]+)/g)];
  return addrs.length === 1 ? addrs[0]![1]!.toLowerCase() : null;
}

interface FileKey {
  domain: string;
  selector: string;
  private_key_file?: string;
}

function tenantOfDomain(config: Config, domain: string): TenantConfig | null {
  return config.tenants.find((t) => t.domains.some((d) => domain === d || domain.endsWith(`.${d}`))) ?? null;
}

function fileKeys(config: Config, tenant: TenantConfig): FileKey[] {
  const role = config.roles[config.node.role]?.policy;
  const layers: (PolicySpec | undefined)[] = [config.policy, role, tenant.policy];
  return layers.flatMap(
    (l) => ((l?.filters?.dkim_sign?.options as { keys?: FileKey[] } | undefined)?.keys ?? []) as FileKey[],
  );
}

export function createNoticeSigner(deps: {
  config: () => Config;
  keys: () => KeySource | null;
  log: Logger;
}): NoticeSigner {
  return async (message) => {
    const domain = noticeFromDomain(message);
    if (!domain) return message;
    const config = deps.config();
    const tenant = tenantOfDomain(config, domain);
    if (!tenant || tenant.notices?.dkim === false) return message;
    try {
      let signer: { domain: string; selector: string; pem: string } | null = null;
      const source = deps.keys();
      for (let d = domain; d.includes(".") && !signer && source; d = d.slice(d.indexOf(".") + 1)) {
        const k = await source.get(d);
        // A tenant's stored key signs only that tenant's notices; a key without a tenant, anyone's.
        if (k && (k.tenant === null || k.tenant === tenant.id))
          signer = { domain: k.domain, selector: k.selector, pem: k.pem };
      }
      if (!signer) {
        const keys = fileKeys(config, tenant);
        for (let d = domain; d.includes(".") && !signer; d = d.slice(d.indexOf(".") + 1)) {
          const k = keys.find((x) => x.domain.toLowerCase() === d && x.private_key_file);
          if (k)
            signer = {
              domain: d,
              selector: k.selector,
              pem: loadDkimKey(readFileSync(k.private_key_file!, "utf8"), k.private_key_file).pem,
            };
        }
      }
      if (!signer) return message;
      const value = await signMessage(message, {
        domain: signer.domain,
        selector: signer.selector,
        privateKeyPem: signer.pem,
        headers: HEADERS,
      });
      return Buffer.concat([Buffer.from(`DKIM-Signature: ${value}\r\n`), message]);
    } catch (err) {
      deps.log.warn({ domain, tenant: tenant.id, err: (err as Error).message }, "notice not DKIM-signed");
      return message;
    }
  };
}
