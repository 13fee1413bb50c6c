// Small shared pieces of the console pages: a data loader hook, an error line, a table, date
// formatting, and for long server-paged lists a pager, sortable headers and collapsed symbols.
// Nothing here talks to the server except through the loader given to it.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useT } from "./i18n.ts";

export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    run()
      .then((d) => live && (setData(d), setError(null)))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [run, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p className="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Table({ head, rows }: { head: string[]; rows: ReactNode[][] }) {
  const t = useT();
  if (!rows.length) return <p className="muted">{t("nothing")}</p>;
  return (
    <table>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((c, j) => (
              <td key={j}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export const when = (d: string | Date): string => new Date(d).toLocaleString();

/** Symbols, strongest first: the top three, the rest on demand. */
export function Symbols({ symbols }: { symbols: { name: string; score: number; detail?: string }[] }) {
  const t = useT();
  const [all, setAll] = useState(false);
  const sorted = [...symbols].sort(
    (a, b) => Math.abs(b.score) - Math.abs(a.score) || a.name.localeCompare(b.name),
  );
  const shown = all ? sorted : sorted.slice(0, 3);
  return (
    <span className="symbols">
      {shown.map((s, i) => (
        <span key={`${s.name}-${i}`} className="tag" title={s.detail ?? ""}>
          {s.name} {s.score ? s.score.toFixed(1) : ""}
        </span>
      ))}
      {sorted.length > 3 && (
        <button className="link" onClick={() => setAll(!all)} data-testid="symbols-more">
          {all ? t("less") : `+${sorted.length - 3} ${t("more")}`}
        </button>
      )}
    </span>
  );
}

/** "51–100 of 1,234" with previous/next. */
export function Pager(props: {
  offset: number;
  limit: number;
  total: number;
  onPage: (offset: number) => void;
}) {
  const t = useT();
  const { offset, limit, total } = props;
  const last = Math.min(offset + limit, total);
  return (
    <div className="row pager" data-testid="pager">
      <button
        disabled={offset === 0}
        onClick={() => props.onPage(Math.max(0, offset - limit))}
        data-testid="page-prev"
      >
        {t("prev")}
      </button>
      <span data-testid="page-info">
        {total ? `${(offset + 1).toLocaleString()}–${last.toLocaleString()}` : "0"} / {total.toLocaleString()}
      </span>
      <button disabled={last >= total} onClick={() => props.onPage(offset + limit)} data-testid="page-next">
        {t("next")}
      </button>
    </div>
  );
}

/** A column header that sorts the server's list by `field`; a second click reverses the order. */
export function SortHeader(props: {
  label: string;
  field: string;
  sort: { field: string; order: "asc" | "desc" };
  onSort: (s: { field: string; order: "asc" | "desc" }) => void;
  className?: string;
}) {
  const on = props.sort.field === props.field;
  return (
    <th className={props.className}>
      <button
        className="link"
        data-testid={`sort-${props.field}`}
        onClick={() =>
          props.onSort({ field: props.field, order: on && props.sort.order === "desc" ? "asc" : "desc" })
        }
      >
        {props.label}
        {on ? (props.sort.order === "desc" ? " ▼" : " ▲") : ""}
      </button>
    </th>
  );
}
