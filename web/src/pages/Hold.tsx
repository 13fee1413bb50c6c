// Hold queue: scheduled and approval-gated messages; send now, cancel, approve — each button only
// where the server says it can succeed (no "send now" before approval, "approve" for approvers).
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
  allowed: { release: boolean; cancel: boolean; approve: boolean };
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
            {h.allowed.release && <button onClick={() => act(h.id, "release")}>{t("sendNow")}</button>}
            {h.allowed.cancel && <button onClick={() => act(h.id, "cancel")}>{t("cancel")}</button>}
            {h.allowed.approve && <button onClick={() => act(h.id, "approve")}>{t("approve")}</button>}
            {h.approver && !h.allowed.approve && (
              <span className="muted small">
                {t("approve")}: {h.approver}
              </span>
            )}
          </>,
        ])}
      />
    </div>
  );
}
