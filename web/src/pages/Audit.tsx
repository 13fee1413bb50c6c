// The audit log: who changed what, when, with the values before and after.
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Entry {
  at: string;
  actor: string;
  action: string;
  target: string;
  tenant: string | null;
  before: unknown;
  after: unknown;
}

export function AuditPage() {
  const t = useT();
  const { data, error } = useLoad(() => api<{ entries: Entry[] }>("GET", "/api/audit?limit=200"), []);
  return (
    <div>
      <ErrorLine error={error} />
      <Table
        head={[t("when"), t("actor"), t("what"), t("target"), "tenant", t("before"), t("after")]}
        rows={(data?.entries ?? []).map((e) => [
          when(e.at),
          e.actor,
          e.action,
          e.target,
          e.tenant ?? "",
          <code>{JSON.stringify(e.before)}</code>,
          <code>{JSON.stringify(e.after)}</code>,
        ])}
      />
    </div>
  );
}
