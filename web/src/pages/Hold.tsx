// Hold queue: scheduled and approval-gated messages; send now, cancel, approve.
import { useState } from "react";
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Held {
  id: string;
  tenant: string | null;
  sender: string;
  recipients: string[];
  reason: string;
  releaseAt: string;
  state: string;
  approver: string | null;
}

export function HoldPage() {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const list = useLoad(() => api<{ items: Held[] }>("GET", "/api/hold?state=held"), []);
  const act = (id: string, what: string) =>
    api("POST", `/api/hold/${encodeURIComponent(id)}/${what}`, {})
      .then(() => (setError(null), list.reload()))
      .catch((e: Error) => setError(e.message));
  return (
    <div>
      <ErrorLine error={error ?? list.error} />
      <Table
        head={[t("sender"), t("recipient"), t("reason"), t("releaseAt"), ""]}
        rows={(list.data?.items ?? []).map((h) => [
          h.sender,
          h.recipients.join(", "),
          h.reason,
          when(h.releaseAt),
          <>
            <button onClick={() => act(h.id, "release")}>{t("sendNow")}</button>
            <button onClick={() => act(h.id, "cancel")}>{t("cancel")}</button>
            {h.approver && <button onClick={() => act(h.id, "approve")}>{t("approve")}</button>}
          </>,
        ])}
      />
    </div>
  );
}
