// Cluster nodes (operators): role, version, applied configuration revision, health, last
// heartbeat. Publishing revisions stays with `sluice cluster` (loopback API) for now.
import { api } from "../api.ts";
import { ErrorLine, Table, useLoad, when } from "../util.tsx";

interface Node {
  name: string;
  role: string;
  version: string;
  appliedRev: number | null;
  health: string;
  error: string | null;
  seenAt: string;
  seenAgoS: number;
}

export function NodesPage() {
  const { data, error } = useLoad(() => api<{ nodes: Node[] }>("GET", "/api/nodes"), []);
  return (
    <div>
      <ErrorLine error={error} />
      <Table
        head={["node", "role", "version", "rev", "health", "seen"]}
        rows={(data?.nodes ?? []).map((n) => [
          n.name,
          n.role,
          n.version,
          n.appliedRev ?? "-",
          <span className={n.health === "ok" ? "ok" : "error"}>
            {n.health + (n.error ? `: ${n.error}` : "")}
          </span>,
          `${when(n.seenAt)} (${n.seenAgoS} s)`,
        ])}
      />
    </div>
  );
}
