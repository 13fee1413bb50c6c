// RFC 5260 (date, index) examples plus the date-part formats.
import { describe, expect, it } from "vitest";
import { datePart, parseRfc5322Date } from "./date.ts";
import { run } from "../../test/helpers/sieve.ts";

const msg = (headers: string[]): string => headers.join("\r\n") + "\r\n\r\nbody\r\n";
const folders = (src: string, message: string, now?: Date, localZone?: string): string[] =>
  run(src, message, { now, localZone }).actions.flatMap((a) =>
    a.type === "fileinto" ? [a.folder] : [a.type],
  );

describe("RFC 5260 date parts", () => {
  const d = parseRfc5322Date("Tue, 1 Apr 1997 09:06:31 -0800 (PST)");
  it("parses RFC 5322 dates with zones and comments", () => {
    expect(d).not.toBeNull();
    expect(new Date(d?.time ?? 0).toISOString()).toBe("1997-04-01T17:06:31.000Z");
    expect(d?.offset).toBe(-480);
    expect(parseRfc5322Date("1 Apr 97 09:06 EST")?.offset).toBe(-300);
    expect(parseRfc5322Date("not a date")).toBeNull();
    expect(parseRfc5322Date("32 Apr 1997 09:06:31 +0000")).toBeNull();
  });
  it("formats every part in the original zone", () => {
    const z = d as NonNullable<typeof d>;
    const parts = [
      "year",
      "month",
      "day",
      "date",
      "julian",
      "hour",
      "minute",
      "second",
      "time",
      "iso8601",
      "std11",
      "zone",
      "weekday",
    ] as const;
    expect(Object.fromEntries(parts.map((p) => [p, datePart(z, p)]))).toEqual({
      year: "1997",
      month: "04",
      day: "01",
      date: "1997-04-01",
      julian: "50539",
      hour: "09",
      minute: "06",
      second: "31",
      time: "09:06:31",
      iso8601: "1997-04-01T09:06:31-08:00",
      std11: "Tue, 01 Apr 1997 09:06:31 -0800",
      zone: "-0800",
      weekday: "2",
    });
  });
});

describe("RFC 5260 examples", () => {
  it("5.1: boss mail during office hours (:originalzone)", () => {
    const src = `require ["date", "relational", "fileinto"];
      if allof(header :is "from" "boss@example.com",
               date :value "ge" :originalzone "date" "hour" "09",
               date :value "lt" :originalzone "date" "hour" "17")
      { fileinto "urgent"; }`;
    expect(folders(src, msg(["From: boss@example.com", "Date: Tue, 1 Apr 1997 09:06:31 -0800"]))).toEqual([
      "urgent",
    ]);
    expect(folders(src, msg(["From: boss@example.com", "Date: Tue, 1 Apr 1997 18:06:31 -0800"]))).toEqual([]);
    // Without :originalzone the local zone (UTC by default) is used: 09:06 -0800 is 17:06 UTC.
    const utc = src.replaceAll(":originalzone ", "");
    expect(folders(utc, msg(["From: boss@example.com", "Date: Tue, 1 Apr 1997 09:06:31 -0800"]))).toEqual([]);
  });

  it("5.2: weekend mail from the Received date", () => {
    const src = `require ["date", "relational", "fileinto"];
      if anyof(date :is "received" "weekday" "0", date :is "received" "weekday" "6") { fileinto "weekend"; }`;
    const sat = "Received: from mx.example.org by mail.example.com; Sat, 5 Apr 1997 10:00:00 +0000";
    const mon = "Received: from mx.example.org by mail.example.com; Mon, 7 Apr 1997 10:00:00 +0000";
    expect(folders(src, msg([sat]))).toEqual(["weekend"]);
    expect(folders(src, msg([mon]))).toEqual([]);
  });

  it("5.3: currentdate window (vacation replaced by fileinto; Sluice has no vacation)", () => {
    const src = `require ["date", "relational", "fileinto"];
      if allof(currentdate :value "ge" "date" "2007-06-30", currentdate :value "le" "date" "2007-07-07")
      { fileinto "away"; }`;
    expect(folders(src, msg(["Subject: x"]), new Date("2007-07-02T12:00:00Z"))).toEqual(["away"]);
    expect(folders(src, msg(["Subject: x"]), new Date("2007-07-08T12:00:00Z"))).toEqual([]);
  });

  it("5.4: file by month and year from currentdate match variables", () => {
    const src = `require ["date", "variables", "fileinto"];
      if currentdate :matches "month" "*" { set "month" "\${1}"; }
      if currentdate :matches "year"  "*" { set "year" "\${1}"; }
      fileinto "\${month}-\${year}";`;
    expect(folders(src, msg(["Subject: x"]), new Date("2008-05-28T12:00:00Z"))).toEqual(["05-2008"]);
  });

  it("5.5: addheader with the std11 currentdate", () => {
    const src = `require ["variables", "date", "editheader"];
      if currentdate :matches "std11" "*" { addheader "Processing-date" "\${0}"; }`;
    const r = run(src, msg(["Subject: x"]), { now: new Date("2008-05-28T12:00:00Z"), localZone: "-0700" });
    expect(r.headerEdits).toEqual([
      { op: "add", name: "Processing-date", value: "Wed, 28 May 2008 05:00:00 -0700", last: false },
    ]);
  });

  it(":zone converts before extracting the part", () => {
    const src = `require ["date", "fileinto"]; if date :zone "+0900" "date" "hour" "02" { fileinto "tokyo"; }`;
    expect(folders(src, msg(["Date: Tue, 1 Apr 1997 09:06:31 -0800"]))).toEqual(["tokyo"]);
  });

  it("7: :index and :last pick one occurrence of a header", () => {
    const m = msg([
      "Received: a; Mon, 7 Apr 1997 10:00:00 +0000",
      "Received: b; Sat, 5 Apr 1997 10:00:00 +0000",
      "X-Tag: one",
      "X-Tag: two",
    ]);
    const src = `require ["date", "index", "fileinto"];
      if date :index 1 :last "received" "weekday" "6" { fileinto "first-hop-weekend"; }
      if date :index 1 "received" "weekday" "6" { fileinto "wrong"; }
      if header :index 2 "x-tag" "two" { fileinto "second"; }
      if header :index 1 :last "x-tag" "one" { fileinto "wrong2"; }
      if header :index 3 "x-tag" "" { fileinto "wrong3"; }`;
    expect(folders(src, m)).toEqual(["first-hop-weekend", "second"]);
  });

  it("a missing or broken date header makes the test false", () => {
    const src = `require ["date", "fileinto"]; if date :contains "date" "year" "" { fileinto "has-date"; }`;
    expect(folders(src, msg(["Date: garbage"]))).toEqual([]);
    expect(folders(src, msg(["Subject: x"]))).toEqual([]);
  });
});
