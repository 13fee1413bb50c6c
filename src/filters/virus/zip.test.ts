// The zip reader: archives with data in front of them (as `unzip` opens them), nested and lying
// archives, and a bomb that must not stall the event loop while it is measured.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { constants, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeZip, mimeMessage } from "../../../test/helpers/clamd.ts";
import { inspectAttachments, isExecutable } from "./attachments.ts";
import { inspectZip, isZip, zipStart } from "./zip.ts";

const limits = { depthCap: 3, budgetBytes: 200 * 1024 * 1024, maxEntries: 10_000 };
const exe = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200)]);

describe("zip inspection", () => {
  it("opens an archive with junk in front of it, as unzip does", async () => {
    const zip = makeZip([
      { name: "readme.txt", data: Buffer.from("hello") },
      { name: "tool.bin", data: exe, deflate: true },
    ]);
    const junk = Buffer.concat([Buffer.alloc(64, 0x41), zip]);
    expect(zipStart(zip)).toBe(0);
    expect(zipStart(junk)).toBe(64);
    if (existsSync("/usr/bin/unzip")) {
      const dir = mkdtempSync(join(tmpdir(), "zip-"));
      try {
        writeFileSync(join(dir, "j.zip"), junk);
        // unzip warns about the 64 extra bytes (exit 1) and lists the entries all the same.
        let out = "";
        try {
          out = execFileSync("unzip", ["-l", join(dir, "j.zip")], { encoding: "utf8", stdio: "pipe" });
        } catch (err) {
          out = (err as { stdout: string }).stdout;
        }
        expect(out).toContain("tool.bin");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const facts = await inspectZip(junk, "j.zip", limits, isExecutable);
    expect(facts.executables).toEqual(["j.zip/tool.bin"]);
    expect(facts.unreadable).toBeNull();
    // …and as an attachment, even though it does not start with a local header.
    const [f] = await inspectAttachments(
      Readable.from([mimeMessage({ attachments: [{ filename: "j.zip", data: junk }] })]),
      { maxInspectBytes: 30e6, depthCap: 3, budgetBytes: 50e6 },
    );
    expect(f!.archive?.executables).toEqual(["j.zip/tool.bin"]);
  });

  it("finds an executable in a junk-prefixed archive nested in another", async () => {
    const inner = Buffer.concat([Buffer.alloc(100, 7), makeZip([{ name: "x.dat", data: exe }])]);
    const outer = makeZip([{ name: "inner.bin", data: inner, deflate: true }]);
    const facts = await inspectZip(outer, "o.zip", limits, isExecutable);
    expect(facts.depth).toBe(2);
    expect(facts.executables).toEqual(["o.zip/inner.bin/x.dat"]);
  });

  it("is no zip: random bytes, a lone end record, a truncated archive", async () => {
    expect(isZip(Buffer.from("not a zip at all, just text"))).toBe(false);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt32LE(46, 12); // claims a central directory that is not there
    expect(isZip(Buffer.concat([Buffer.alloc(100), eocd]))).toBe(false);
    const zip = makeZip([{ name: "a.txt", data: Buffer.alloc(1000, 1), deflate: true }]);
    const cut = Buffer.concat([zip.subarray(0, 40), zip.subarray(zip.length - 60)]);
    const facts = await inspectZip(cut, "cut.zip", limits, isExecutable);
    expect(facts.unreadable).toMatch(/^cut\.zip: /);
  });

  it("an entry that inflates past its declared size is a bomb", async () => {
    const zip = makeZip([{ name: "z.bin", data: Buffer.alloc(4 * 1024 * 1024), deflate: true }]);
    // Lie: declare 1000 bytes in the central directory.
    const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(1000, cd + 24);
    const facts = await inspectZip(zip, "lie.zip", limits, isExecutable);
    expect(facts.bomb).toBe(true);
  });

  it("measures a 200 KB bomb without stalling the event loop", async () => {
    // ~200 MB of zeros deflate to ~200 KB: the old reader inflated it synchronously (2.5 s).
    const size = 199 * 1024 * 1024;
    // 199 flushed (byte-aligned) copies of 1 MiB of deflated zeros, then a final empty block.
    const mib = deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: constants.Z_FULL_FLUSH });
    const raw = Buffer.concat([...Array<Buffer>(199).fill(mib), deflateRawSync(Buffer.alloc(0))]);
    expect(raw.length).toBeLessThan(260 * 1024);
    const zip = storedAs(raw, size);
    let worst = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    const t0 = performance.now();
    const facts = await inspectZip(zip, "bomb.zip", limits, isExecutable);
    clearInterval(ticker);
    expect(facts.maxRatio).toBeGreaterThan(100);
    expect(facts.bomb).toBe(false); // within the 200 MiB budget: measured to the end
    expect(worst).toBeLessThan(250);
    // Informational: the whole measurement, which runs on the thread pool.
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});

/** A zip with one deflated entry whose compressed bytes are given (makeZip deflates itself). */
function storedAs(deflated: Buffer, size: number): Buffer {
  const zip = makeZip([{ name: "zeros.bin", data: deflated }]);
  // Turn the stored entry into a deflated one of the given size, in both headers.
  zip.writeUInt16LE(8, 8);
  zip.writeUInt32LE(size, 22);
  const cd = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt16LE(8, cd + 10);
  zip.writeUInt32LE(size, cd + 24);
  return zip;
}
