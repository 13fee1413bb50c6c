// Message log search: by recipient and sender; each recipient's action, score, symbols and
// decision trace (which filters ran, which were skipped and why).
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Entry {
  id: string;
  at: string;
  sender: string;
  subject: string | null;
  recipients: {
    address: string;
    action: string;
    score: number;
    symbols: { name: string; score: number }[];
    trace: unknown[];
  }[];
}

export function LogPage({ me }: { me: Me }) {
  const t = useT();
  const [recipient, setRecipient] = useState("");
  const [sender, setSender] = useState("");
  const [hours, setHours] = useState("24");
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const { data, error } = useLoad(
    () => api<{ entries: Entry[] }>("GET", `/api/log?limit=200${query}`),
    [query],
  );
  return (
    <div>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const q = new URLSearchParams();
          if (recipient && me.role !== "user") q.set("recipient", recipient);
          if (sender) q.set("sender", sender);
          if (hours) q.set("since", new Date(Date.now() - Number(hours) * 3600_000).toISOString());
          setQuery(q.size ? `&${q}` : "");
        }}
      >
        {me.role !== "user" && (
          <input
            placeholder={t("recipient")}
            value={recipient}
            onChange={(e) => setRecipient(e.target.value)}
          />
        )}
        <input placeholder={t("sender")} value={sender} onChange={(e) => setSender(e.target.value)} />
        <select value={hours} onChange={(e) => setHours(e.target.value)} aria-label="since">
          <option value="1">1 h</option>
          <option value="24">24 h</option>
          <option value="168">7 d</option>
          <option value="">*</option>
        </select>
        <button type="submit">{t("search")}</button>
      </form>
      <ErrorLine error={error} />
      <Table
        head={[
          t("date"),
          t("sender"),
          t("subject"),
          t("recipient"),
          t("action"),
          t("score"),
          t("symbols"),
          "",
        ]}
        rows={(data?.entries ?? []).flatMap((e) =>
          e.recipients.map((r) => [
            when(e.at),
            e.sender,
            e.subject ?? "",
            r.address,
            r.action,
            r.score.toFixed(1),
            r.symbols.map((s) => (
              <span key={s.name} className="tag">
                {s.name} {s.score}
              </span>
            )),
            <>
              <button onClick={() => setOpen(open === e.id + r.address ? null : e.id + r.address)}>
                {t("trace")}
              </button>
              {open === e.id + r.address && <pre data-testid="trace">{JSON.stringify(r.trace, null, 2)}</pre>}
            </>,
          ]),
        )}
      />
    </div>
  );
}
