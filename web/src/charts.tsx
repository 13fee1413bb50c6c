// Small SVG charts for the dashboard: stacked bars and lines over time, with a y scale, a few
// time labels and a legend. They scale to their container (viewBox), so they never overflow;
// plain SVG with React text, nothing remote (the console's CSP allows only itself).
import type { ReactNode } from "react";

export interface Series {
  name: string;
  color: string;
  values: number[];
}

/** The drawing's own width (the SVG scales to its container); smaller for narrow cards. */
const WIDE = 1000;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

function niceMax(v: number): number {
  if (v <= 5) return Math.max(1, Math.ceil(v));
  const p = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / p) * p;
}

function Frame(props: {
  width: number;
  height: number;
  max: number;
  labels: string[];
  children: ReactNode;
  title: string;
}) {
  const { width: W, height, max, labels } = props;
  const h = height - PAD.top - PAD.bottom;
  const ticks = [0, 0.5, 1].map((f) => ({ y: PAD.top + h - f * h, v: Math.round(max * f * 10) / 10 }));
  const at = [0, Math.floor((labels.length - 1) / 2), labels.length - 1].filter(
    (i, k, a) => i >= 0 && a.indexOf(i) === k,
  );
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * (i + 0.5)) / Math.max(1, labels.length);
  return (
    <svg viewBox={`0 0 ${W} ${height}`} width="100%" role="img" aria-label={props.title} className="chart">
      {ticks.map((t) => (
        <g key={t.y}>
          <line x1={PAD.left} x2={W - PAD.right} y1={t.y} y2={t.y} stroke="#e3e8ee" />
          <text x={PAD.left - 6} y={t.y + 4} fontSize={11} textAnchor="end" fill="#667">
            {t.v}
          </text>
        </g>
      ))}
      {props.children}
      {at.map((i) => (
        <text key={i} x={x(i)} y={height - 6} fontSize={11} textAnchor="middle" fill="#667">
          {labels[i]}
        </text>
      ))}
    </svg>
  );
}

export function StackedBars(props: { series: Series[]; labels: string[]; height?: number; title: string }) {
  const W = WIDE;
  const height = props.height ?? 180;
  const n = props.labels.length;
  const totals = props.labels.map((_, i) => props.series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const h = height - PAD.top - PAD.bottom;
  const bw = (W - PAD.left - PAD.right) / Math.max(1, n);
  return (
    <Frame width={W} height={height} max={max} labels={props.labels} title={props.title}>
      {props.labels.map((label, i) => {
        let y = PAD.top + h;
        return props.series.map((s) => {
          const v = s.values[i] ?? 0;
          if (!v) return null;
          const bh = (v / max) * h;
          y -= bh;
          return (
            <rect
              key={`${i}-${s.name}`}
              x={PAD.left + i * bw + (bw > 4 ? 1 : 0)}
              y={y}
              width={Math.max(1, bw - (bw > 4 ? 2 : 0))}
              height={bh}
              fill={s.color}
            >
              <title>{`${label} ${s.name}: ${v}`}</title>
            </rect>
          );
        });
      })}
    </Frame>
  );
}

export function Lines(props: {
  series: Series[];
  labels: string[];
  height?: number;
  title: string;
  width?: number;
}) {
  const W = props.width ?? WIDE;
  const height = props.height ?? 180;
  const n = props.labels.length;
  const max = niceMax(Math.max(0, ...props.series.flatMap((s) => s.values)));
  const h = height - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * (i + 0.5)) / Math.max(1, n);
  const y = (v: number) => PAD.top + h - (v / max) * h;
  return (
    <Frame width={W} height={height} max={max} labels={props.labels} title={props.title}>
      {props.series.map((s) => (
        <polyline
          key={s.name}
          fill="none"
          stroke={s.color}
          strokeWidth={2}
          points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
        >
          <title>{s.name}</title>
        </polyline>
      ))}
    </Frame>
  );
}

export function Legend({ series, totals }: { series: Series[]; totals?: Record<string, number> }) {
  return (
    <div className="legend">
      {series.map((s) => (
        <span key={s.name} className="tag" style={{ borderLeft: `10px solid ${s.color}` }}>
          {s.name}
          {totals ? `: ${totals[s.name] ?? 0}` : ""}
        </span>
      ))}
    </div>
  );
}

export const PALETTE = [
  "#3b82c4",
  "#d9822b",
  "#c0392b",
  "#16a085",
  "#8e6cc4",
  "#e3b341",
  "#7f8c8d",
  "#34495e",
];
