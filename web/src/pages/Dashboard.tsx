// Dashboard: recipients per minute by action (stacked SVG bars), spam and virus rates, top
// symbols (horizontal bars). Charts are plain SVG: no chart library, nothing remote.
import { api } from "../api.ts";
import { useT } from "../i18n.ts";
import { ErrorLine, useLoad } from "../util.tsx";

interface Stats {
  messages: number;
  recipients: number;
  actions: Record<string, number>;
  spamRate: number;
  virusRate: number;
  perMinute: { minute: string; counts: Record<string, number> }[];
  topSymbols: { name: string; count: number }[];
}

const COLORS: Record<string, string> = {
  accept: "#3b82c4",
  tag: "#e3b341",
  quarantine: "#d9822b",
  hold: "#8e6cc4",
  reject: "#c0392b",
  tempfail: "#7f8c8d",
  discard: "#34495e",
  redirect: "#16a085",
};

export function Dashboard() {
  const t = useT();
  const { data, error } = useLoad(() => api<Stats>("GET", "/api/dashboard?minutes=60"), []);
  if (!data) return <ErrorLine error={error} />;
  const actions = Object.keys(data.actions);
  const max = Math.max(1, ...data.perMinute.map((m) => Object.values(m.counts).reduce((a, b) => a + b, 0)));
  const w = 720;
  const h = 160;
  const bw = w / Math.max(1, data.perMinute.length);
  const topMax = Math.max(1, ...data.topSymbols.map((s) => s.count));
  return (
    <div data-testid="dashboard">
      <div className="row">
        <div className="card">
          <div className="muted">{t("messages")}</div>
          <div className="stat">{data.messages}</div>
        </div>
        <div className="card">
          <div className="muted">{t("spamRate")}</div>
          <div className="stat">{(data.spamRate * 100).toFixed(1)}%</div>
        </div>
        <div className="card">
          <div className="muted">{t("virusRate")}</div>
          <div className="stat">{(data.virusRate * 100).toFixed(1)}%</div>
        </div>
      </div>
      <div className="card">
        <h3>{t("messagesPerMinute")}</h3>
        <svg width={w} height={h + 20} role="img" aria-label={t("messagesPerMinute")}>
          {data.perMinute.map((m, i) => {
            let y = h;
            return actions.map((a) => {
              const n = m.counts[a] ?? 0;
              const bh = (n / max) * h;
              y -= bh;
              return n ? (
                <rect
                  key={`${i}-${a}`}
                  x={i * bw + 1}
                  y={y}
                  width={Math.max(1, bw - 2)}
                  height={bh}
                  fill={COLORS[a] ?? "#999"}
                >
                  <title>{`${new Date(m.minute).toLocaleTimeString()} ${a}: ${n}`}</title>
                </rect>
              ) : null;
            });
          })}
          <line x1={0} y1={h} x2={w} y2={h} stroke="#889" />
        </svg>
        <div>
          {actions.map((a) => (
            <span key={a} className="tag" style={{ borderLeft: `10px solid ${COLORS[a] ?? "#999"}` }}>
              {a}: {data.actions[a]}
            </span>
          ))}
        </div>
      </div>
      <div className="card">
        <h3>{t("topSymbols")}</h3>
        <svg width={w} height={data.topSymbols.length * 22 + 4}>
          {data.topSymbols.map((s, i) => (
            <g key={s.name} transform={`translate(0 ${i * 22})`}>
              <text x={0} y={15} fontSize={12}>
                {s.name}
              </text>
              <rect x={200} y={3} height={16} width={(s.count / topMax) * (w - 260)} fill="#3b82c4" />
              <text x={205 + (s.count / topMax) * (w - 260)} y={15} fontSize={12}>
                {s.count}
              </text>
            </g>
          ))}
        </svg>
      </div>
    </div>
  );
}
