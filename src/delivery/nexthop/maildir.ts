// Maildir delivery (the embedded default): one Maildir per recipient under
// PATH/<domain>/<local>/, written to tmp/, fsynced, then renamed into new/ — the
// rename is the commit, so a crash leaves either nothing or the whole message.
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { DeliveryRequest, DeliveryResult, NextHop } from "./types.ts";

let counter = 0;

function safePart(s: string): string {
  // Addresses come from the network: never let them name a path outside the root.
  const clean = s.toLowerCase().replace(/[^a-z0-9._+-]/g, "_");
  return clean === "." || clean === ".." || clean === "" ? "_" : clean;
}

export function maildirFor(root: string, address: string): string {
  const at = address.lastIndexOf("@");
  const local = at === -1 ? address : address.slice(0, at);
  const domain = at === -1 ? "localhost" : address.slice(at + 1);
  return join(root, safePart(domain), safePart(local));
}

export class MaildirNextHop implements NextHop {
  readonly target: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.target = `maildir:${root}`;
  }

  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const result: DeliveryResult = { accepted: [], failed: [] };
    for (const r of req.recipients) {
      try {
        await this.deliverOne(maildirFor(this.root, r.address), req);
        result.accepted.push(r.address);
      } catch (err) {
        result.failed.push({
          address: r.address,
          reply: {
            code: 451,
            enhanced: "4.3.0",
            text: `Mailbox write failed: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
          },
          permanent: false,
        });
      }
    }
    return result;
  }

  private async deliverOne(dir: string, req: DeliveryRequest): Promise<void> {
    for (const sub of ["tmp", "new", "cur"]) await mkdir(join(dir, sub), { recursive: true });
    const name = `${Date.now()}.M${process.pid}P${++counter}R${randomBytes(4).toString("hex")}.${hostname()}`;
    const tmp = join(dir, "tmp", name);
    const fh = await open(tmp, "wx", 0o600);
    try {
      for await (const chunk of req.message()) await fh.write(chunk as Buffer);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await rename(tmp, join(dir, "new", `${name},S=${req.size}`));
  }
}
