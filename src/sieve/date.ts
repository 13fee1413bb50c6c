// RFC 5322 date parsing and the RFC 5260 date-part formats (year … weekday) in a chosen zone.
// Not the date/currentdate tests themselves (extensions/date.ts); pure functions only.

export const DATE_PARTS = [
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
export type DatePart = (typeof DATE_PARTS)[number];

export interface ZonedDate {
  /** Milliseconds since the epoch (UTC). */
  time: number;
  /** Offset east of UTC in minutes. */
  offset: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const OBS_ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  edt: -240,
  est: -300,
  cdt: -300,
  cst: -360,
  mdt: -360,
  mst: -420,
  pdt: -420,
  pst: -480,
};

// Fixed pattern on at most 256 characters of header text: no user-supplied regex here.
const DATE_RE =
  /^\s*(?:[A-Za-z]{3}\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?/;

export function isValidZone(zone: string): boolean {
  const m = /^[+-](\d{2})(\d{2})$/.exec(zone);
  return m !== null && Number(m[1]) <= 23 && Number(m[2]) <= 59;
}

export function zoneOffset(zone: string): number {
  const sign = zone.startsWith("-") ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
}

/** Parses an RFC 5322 date-time (comments removed); null when it is not one. */
export function parseRfc5322Date(value: string): ZonedDate | null {
  const text = value.slice(0, 256).replace(/\([^()]*\)/g, " ");
  const m = DATE_RE.exec(text);
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] as string).toLowerCase());
  let year = Number(m[3]);
  // RFC 5322 4.3 obsolete two- and three-digit years.
  if ((m[3] as string).length === 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] as string).length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const z = m[7];
  let offset = 0;
  if (z !== undefined) {
    if (/^[+-]\d{4}$/.test(z)) offset = zoneOffset(z);
    else offset = OBS_ZONES[z.toLowerCase()] ?? 0; // military and unknown zones mean -0000 (RFC 5322 4.3)
  }
  const time = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
  return { time, offset };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

function formatZone(offset: number, colon: boolean): string {
  const sign = offset < 0 ? "-" : "+";
  const a = Math.abs(offset);
  return sign + pad(Math.floor(a / 60)) + (colon ? ":" : "") + pad(a % 60);
}

/** The RFC 5260 4.2 string for one date part of a moment seen from a zone offset. */
export function datePart(d: ZonedDate, part: DatePart): string {
  const local = new Date(d.time + d.offset * 60_000);
  const Y = pad(local.getUTCFullYear(), 4);
  const M = pad(local.getUTCMonth() + 1);
  const D = pad(local.getUTCDate());
  const h = pad(local.getUTCHours());
  const m = pad(local.getUTCMinutes());
  const s = pad(local.getUTCSeconds());
  switch (part) {
    case "year":
      return Y;
    case "month":
      return M;
    case "day":
      return D;
    case "date":
      return `${Y}-${M}-${D}`;
    case "julian":
      // Modified Julian Day: 1970-01-01 is day 40587.
      return String(Math.floor((d.time + d.offset * 60_000) / 86_400_000) + 40587);
    case "hour":
      return h;
    case "minute":
      return m;
    case "second":
      return s;
    case "time":
      return `${h}:${m}:${s}`;
    case "iso8601":
      return `${Y}-${M}-${D}T${h}:${m}:${s}${formatZone(d.offset, true)}`;
    case "std11": {
      const mon = (MONTHS[local.getUTCMonth()] as string).replace(/^./, (c) => c.toUpperCase());
      return `${DAYS[local.getUTCDay()]}, ${D} ${mon} ${Y} ${h}:${m}:${s} ${formatZone(d.offset, false)}`;
    }
    case "zone":
      return formatZone(d.offset, false);
    case "weekday":
      return String(local.getUTCDay());
  }
}
