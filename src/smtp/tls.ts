// TLS material for the listeners: the configured certificate and key, or — with none
// configured — a self-signed pair created once under ./var/tls with the openssl tool.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createSecureContext, type SecureContext } from "node:tls";

const run = promisify(execFile);

export interface TlsMaterial {
  context: SecureContext;
  cert: string;
  key: string;
  selfSigned: boolean;
}

export async function loadTls(
  files: { cert: string; key: string } | undefined,
  varDir: string,
  hostname: string,
): Promise<TlsMaterial> {
  let cert: string;
  let key: string;
  let selfSigned = false;
  if (files) {
    cert = files.cert;
    key = files.key;
  } else {
    const dir = join(varDir, "tls");
    cert = join(dir, "self-signed.crt");
    key = join(dir, "self-signed.key");
    if (!existsSync(cert) || !existsSync(key)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-sha256",
        "-days",
        "825",
        "-subj",
        `/CN=${hostname}`,
        "-addext",
        `subjectAltName=DNS:${hostname}`,
        "-keyout",
        key,
        "-out",
        cert,
      ]);
    }
    selfSigned = true;
  }
  const context = createSecureContext({
    cert: readFileSync(cert),
    key: readFileSync(key),
    minVersion: "TLSv1.2",
  });
  return { context, cert, key, selfSigned };
}
