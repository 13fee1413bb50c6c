// Attachment policy without a scanner: zip facts (depth, encrypted, executables, bombs), judging
// against options, double extensions, and option errors caught at load with their path.
import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { EICAR, makeZip, mimeMessage } from "../../../test/helpers/clamd.ts";
import { inspectAttachments, isDoubleExtension, judgeAttachments } from "./attachments.ts";
import { parseVirusOptions } from "./options.ts";

const limits = { maxInspectBytes: 30e6, depthCap: 3, budgetBytes: 50e6 };
const facts = (filename: string, data: Buffer) =>
  inspectAttachments(Readable.from([mimeMessage({ attachments: [{ filename, data }] })]), limits);

describe("attachment policy", () => {
  const o = parseVirusOptions({});

  it("measures nesting depth and blocks deeper than max_depth", async () => {
    let z = makeZip([{ name: "eicar.txt", data: EICAR }]);
    for (let i = 0; i < 4; i++) z = makeZip([{ name: `level${i}.zip`, data: z, deflate: true }]);
    const [f] = await facts("deep.zip", z);
    expect(f!.archive!.depth).toBe(4);
    expect(judgeAttachments([f!], o).map((x) => x.symbol)).toEqual(["ARCHIVE_TOO_DEEP"]);
    expect(
      judgeAttachments([f!], parseVirusOptions({ attachments: { archives: { max_depth: 5 } } })),
    ).toEqual([]);
  });

  it("flags a zip bomb by ratio and by the inflate budget", async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    const [f] = await facts("bomb.zip", makeZip([{ name: "zeros.bin", data: zeros, deflate: true }]));
    expect(f!.archive!.maxRatio).toBeGreaterThan(100);
    expect(judgeAttachments([f!], o).map((x) => x.symbol)).toEqual(["ARCHIVE_BOMB"]);
    const tight = await inspectAttachments(
      Readable.from([
        mimeMessage({
          attachments: [{ filename: "b.zip", data: makeZip([{ name: "z", data: zeros, deflate: true }]) }],
        }),
      ]),
      { ...limits, budgetBytes: 1024 * 1024 },
    );
    expect(tight[0]!.archive!.bomb).toBe(true);
  });

  it("encrypted entries follow archives.encrypted; executables inside by name and content", async () => {
    const z = makeZip([
      { name: "secret.docx", data: Buffer.from("xx"), encrypted: true },
      { name: "tool.bin", data: Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200)]) },
    ]);
    const [f] = await facts("a.zip", z);
    expect(f!.archive!.executables).toEqual(["a.zip/tool.bin"]);
    const quarantine = judgeAttachments([f!], o);
    expect(quarantine.map((x) => [x.symbol, x.verdict])).toEqual([
      ["ARCHIVE_EXECUTABLE", "block"],
      ["ARCHIVE_ENCRYPTED", "quarantine"],
    ]);
    const allow = parseVirusOptions({
      attachments: { archives: { encrypted: "allow", executables: "allow" } },
    });
    expect(judgeAttachments([f!], allow).map((x) => x.verdict)).toEqual(["note"]);
  });

  it("detects double extensions and direction overrides", () => {
    expect(isDoubleExtension("invoice.pdf.exe")).toBe(true);
    expect(isDoubleExtension("photo.jpg .scr")).toBe(true);
    expect(isDoubleExtension("report\u202Efdp.exe")).toBe(true);
    expect(isDoubleExtension("archive.tar.gz")).toBe(false);
    expect(isDoubleExtension("setup.exe")).toBe(false);
  });

  it("fails at load with the option path for bad templates and values", () => {
    expect(() => parseVirusOptions({ reject_text: "virus {name}" })).toThrow(
      /^reject_text: unknown variable \{name\}/,
    );
    expect(() =>
      parseVirusOptions({ notify: { templates: { sender: { ja: { subject: "{subjct}" } } } } }),
    ).toThrow(
      /^notify\.templates\.sender\.ja\.subject: unknown variable \{subjct\}.*did you mean \{subject\}/,
    );
    expect(() => parseVirusOptions({ clamd: [{ host: "x" }] })).toThrow(/^clamd\.0/);
    expect(() => parseVirusOptions({ action: "drop" })).toThrow(/^action:/);
  });
});
