// DKIM signing (RFC 6376, RFC 8463): `signMessage` for any caller, and the `dkim_sign` filter
// that signs mail from authenticated users or internal networks with the key of the From
// domain. Keys come from PEM files named in options, else from the store (sealed, see
// key-store.ts; a tenant's stored key only for that tenant's senders); never verifies.
import { readFile, stat } from "node:fs/promises";
import { BlockList, isIP } from "node:net";
import type { Readable } from "node:stream";
import { dkimSign } from "mailauth";
import type { Filter, FilterResult } from "../../pipeline/types.ts";
import type { Envelope } from "../../message/envelope.ts";
import type { HeaderList } from "../../message/headers.ts";
import { parseFilterOptions } from "../options.ts";
import { DkimKeyError, loadDkimKey, type LoadedKey } from "./keygen.ts";
import type { KeySource, ResolvedKey } from "./key-store.ts";
import { signOptionsSchema, type SignOptions } from "./options.ts";

export interface SignRequest {
  domain: string;
  selector: string;
  privateKeyPem: string;
  algorithm?: "rsa-sha256" | "ed25519-sha256";
  canonicalization?: string;
  /** Header names to sign (those present are signed). */
  headers?: readonly string[];
  signTime?: Date;
  /** Lifetime in seconds (x=). */
  expireS?: number;
}

export class DkimSignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DkimSignError";
  }
}

/** The DKIM-Signature field value (without "DKIM-Signature:" and the final line break). */
export async function signMessage(message: Readable | Buffer, req: SignRequest): Promise<string> {
  const algorithm = req.algorithm ?? loadDkimKey(req.privateKeyPem).algorithm;
  const signTime = req.signTime ?? new Date();
  const r = await dkimSign(message, {
    signTime,
    // mailauth reads the key list from signatureData; top-level keys alone sign nothing.
    signatureData: [
      {
        signingDomain: req.domain,
        selector: req.selector,
        privateKey: req.privateKeyPem,
        algorithm,
        canonicalization: req.canonicalization ?? "relaxed/relaxed",
      },
    ],
    ...(req.headers ? { headerList: req.headers.join(":") as unknown as string[] } : {}),
    ...(req.expireS ? { expires: new Date(signTime.getTime() + req.expireS * 1000) } : {}),
  } as never);
  if (r.errors?.length) {
    const e = r.errors[0] as { err?: Error } | Error;
    throw new DkimSignError(
      `signing as ${req.domain}: ${("err" in e && e.err ? e.err : (e as Error)).message}`,
    );
  }
  const field = r.signatures.replace(/\r?\n$/, "");
  if (!/^DKIM-Signature:/i.test(field))
    throw new DkimSignError(`signing as ${req.domain}: no signature produced`);
  return field.replace(/^DKIM-Signature:\s?/i, "");
}

const keyCache = new Map<string, { mtimeMs: number; key: LoadedKey }>();

async function keyFromFile(path: string): Promise<LoadedKey> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new DkimKeyError(`DKIM key file ${path} cannot be read`);
  const hit = keyCache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.key;
  const key = loadDkimKey(await readFile(path, "utf8"), path);
  keyCache.set(path, { mtimeMs: st.mtimeMs, key });
  return key;
}

/** Authenticated senders and clients on an internal network may have their mail signed. */
export function maySign(envelope: Pick<Envelope, "auth" | "client">, internal: readonly string[]): boolean {
  if (envelope.auth) return true;
  const ip = envelope.client.address.replace(/^::ffff:(?=\d+\.)/i, "");
  const family = isIP(ip);
  if (!family) return false;
  const type = family === 4 ? "ipv4" : "ipv6";
  const list = new BlockList();
  for (const n of internal) {
    const [net, bits] = n.split("/");
    if (isIP(net!) !== family) continue;
    if (bits === undefined) list.addAddress(net!, type);
    else list.addSubnet(net!, Number(bits), type);
  }
  return list.check(ip, type);
}

/** The From domain (one author only). */
export function fromDomain(headers: HeaderList): string | null {
  const from = headers.get("From");
  if (!from) return null;
  const addrs = [...from.replace(/"(?:[^"\\]|\\.)*"/g, "").matchAll(/([^\s<>,;:"()]+)@([^\s<>,;:"()]+)/g)];
  if (addrs.length !== 1) return null;
  return addrs[0]![2]!.toLowerCase();
}

/** The key for a domain: exact match first, then the nearest parent domain with a key. */
export function keyFor(keys: SignOptions["keys"], domain: string): SignOptions["keys"][number] | null {
  for (let d = domain; d.includes("."); d = d.slice(d.indexOf(".") + 1)) {
    const k = keys.find((x) => x.domain === d);
    if (k) return k;
  }
  return null;
}

export interface SignFilterDeps {
  /** DKIM keys kept in the store (`sluice dkim keygen`); a function when the store opens later. */
  keys?: KeySource | (() => KeySource | null);
  /** The tenant of an address (the policy resolver's tenantFor): who may use a tenant's stored key. */
  tenantOf?: (address: string) => string | null;
}

/** The address the sender acts as: the SMTP AUTH login when there is one, else MAIL FROM. */
function senderAddress(envelope: Pick<Envelope, "auth" | "mailFrom">): string {
  return (envelope.auth ?? envelope.mailFrom?.address ?? "").toLowerCase();
}

/**
 * May this sender sign with a stored key? A key without a tenant: anyone allowed to sign. A
 * tenant's key: only senders of that tenant — by tenantOf when known, otherwise only senders
 * whose own address is in the key's domain (or below it).
 */
export function mayUseKey(
  key: Pick<ResolvedKey, "domain" | "tenant">,
  envelope: Pick<Envelope, "auth" | "mailFrom">,
  tenantOf?: (address: string) => string | null,
): boolean {
  if (key.tenant === null) return true;
  const sender = senderAddress(envelope);
  if (!sender.includes("@")) return false;
  if (tenantOf) return tenantOf(sender) === key.tenant;
  const d = sender.slice(sender.lastIndexOf("@") + 1);
  return d === key.domain || d.endsWith(`.${key.domain}`);
}

async function storedKeyFor(source: KeySource, domain: string): Promise<ResolvedKey | null> {
  for (let d = domain; d.includes("."); d = d.slice(d.indexOf(".") + 1)) {
    const k = await source.get(d);
    if (k) return k;
  }
  return null;
}

export function createSignFilter(deps: SignFilterDeps = {}): Filter {
  const source = (): KeySource | null =>
    typeof deps.keys === "function" ? deps.keys() : (deps.keys ?? null);
  const skipped = (detail: string): FilterResult => ({
    symbols: [{ name: "DKIM_SIGN_SKIPPED", score: 0, detail }],
  });
  return {
    name: "dkim_sign",
    group: "dkim_sign",
    stages: ["data"],
    // Late, after verification; edits made by later verdict actions (subject tags) would break it.
    priority: 90,
    enabledByDefault: true,
    parseOptions: (raw) => parseFilterOptions(signOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      const tx = ctx.tx;
      if (ctx.stage !== "data" || !tx?.spool) return {};
      const base = ctx.options as SignOptions;
      if (!maySign(ctx.envelope, base.internal_networks)) return {};
      const domain = fromDomain(tx.headers);
      if (!domain) return skipped("no single From domain");
      // Keys may sit in the global policy or in a tenant's; recipients of this message may
      // belong to other tenants, so every key in sight is a candidate for the From domain.
      const keys = [
        ...base.keys,
        ...ctx.recipients.flatMap(
          (r) => (r.policy.filters.dkim_sign?.options as SignOptions | undefined)?.keys ?? [],
        ),
      ];
      const entry = keyFor(keys, domain);
      let signer: { domain: string; selector: string; key: LoadedKey; algorithm?: SignRequest["algorithm"] };
      if (entry) {
        const key = await keyFromFile(entry.private_key_file);
        signer = { domain: entry.domain, selector: entry.selector, key, algorithm: entry.algorithm };
      } else {
        const src = source();
        const stored = src ? await storedKeyFor(src, domain) : null;
        if (!stored) return skipped(`no key for ${domain}`);
        if (!mayUseKey(stored, ctx.envelope, deps.tenantOf))
          return skipped(`the key of ${stored.domain} belongs to tenant ${stored.tenant}, not this sender's`);
        signer = { domain: stored.domain, selector: stored.selector, key: stored };
      }
      const value = await signMessage(tx.spool.stream(), {
        domain: signer.domain,
        selector: signer.selector,
        privateKeyPem: signer.key.pem,
        algorithm: signer.algorithm ?? signer.key.algorithm,
        canonicalization: base.canonicalization,
        headers: base.headers,
        expireS: base.expire_s,
      });
      return {
        symbols: [{ name: "DKIM_SIGNED", score: 0, detail: `${signer.domain}/${signer.selector}` }],
        headers: [{ op: "add", name: "DKIM-Signature", value, top: true }],
      };
    },
  };
}
