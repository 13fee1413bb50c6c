import { afterEach, describe, expect, it } from "vitest";
import { emptyEnvelope } from "../message/envelope.ts";
import { Transaction } from "../message/transaction.ts";
import type { OutcomeGroup } from "../pipeline/session.ts";
import { SmtpSink } from "../../test/helpers/sink.ts";
import { DotStuffer, editedHeader, smtpReinjector } from "./reinject.ts";

const sinks: SmtpSink[] = [];
afterEach(async () => Promise.all(sinks.splice(0).map((s) => s.stop())));

async function tx(message: string): Promise<Transaction> {
  const env = emptyEnvelope("milter");
  env.mailFrom = { address: "a@x.test", params: { BODY: "8BITMIME" } };
  const t = new Transaction(env);
  const w = t.writer();
  // Split at awkward places to exercise chunk boundaries.
  const b = Buffer.from(message);
  for (let i = 0; i < b.length; i += 7) await w.write(b.subarray(i, i + 7));
  await w.end();
  return t;
}

const group = (over: Partial<OutcomeGroup>): OutcomeGroup => ({
  recipients: [],
  disposition: "deliver",
  edits: [],
  bcc: [],
  redirect: null,
  reason: null,
  holdMinutes: null,
  ...over,
});

describe("DotStuffer", () => {
  it("stuffs leading dots across chunks and turns bare LF into CRLF", () => {
    const d = new DotStuffer();
    const out = Buffer.concat([
      d.push(Buffer.from(".a\r\nb\n")),
      d.push(Buffer.from(".c\r")),
      d.push(Buffer.from("\n.")),
      d.end(),
    ]);
    expect(out.toString()).toBe("..a\r\nb\r\n..c\r\n..\r\n.\r\n");
  });
});

describe("re-injection", () => {
  it("applies the group's edits: deletions, trace headers on top, others appended", async () => {
    const t = await tx("Received: one\r\nSubject: hi\r\nX-Old: 1\r\n\r\nbody\r\n");
    const h = editedHeader(
      t,
      group({
        edits: [
          { op: "delete", name: "x-old" },
          { op: "add", name: "X-Spam", value: "yes" },
          { op: "add", name: "Authentication-Results", value: "mx; spf=pass" },
        ],
      }),
    );
    expect(h.toString()).toBe(
      "Authentication-Results: mx; spf=pass\r\nReceived: one\r\nSubject: hi\r\nX-Spam: yes\r\n",
    );
  });

  it("delivers the edited copy to the group's recipients and bcc by SMTP", async () => {
    const sink = new SmtpSink();
    sinks.push(sink);
    const port = await sink.start();
    const t = await tx("Subject: hi\r\n\r\n.dot line\r\nend\r\n");
    await smtpReinjector({ host: "127.0.0.1", port, localName: "sluice.test" })(
      t,
      group({
        recipients: ["b@y.test"],
        bcc: ["c@y.test"],
        edits: [{ op: "add", name: "X-Copy", value: "2" }],
      }),
    );
    const [m] = await sink.waitFor(1);
    expect(m).toEqual({
      from: "a@x.test",
      to: ["b@y.test", "c@y.test"],
      data: "Subject: hi\r\nX-Copy: 2\r\n\r\n.dot line\r\nend\r\n",
    });
  });

  it("fails with the server's reply when a recipient is refused", async () => {
    const { createServer } = await import("node:net");
    const srv = createServer((s) => {
      s.write("220 x\r\n");
      s.on("data", (d) => s.write(String(d).startsWith("RCPT") ? "550 5.1.1 no\r\n" : "250 ok\r\n"));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    const t = await tx("Subject: hi\r\n\r\nx\r\n");
    await expect(
      smtpReinjector({ host: "127.0.0.1", port, localName: "s" })(t, group({ recipients: ["b@y"] })),
    ).rejects.toThrow(/RCPT: 550 5.1.1 no/);
    srv.close();
  });
});
