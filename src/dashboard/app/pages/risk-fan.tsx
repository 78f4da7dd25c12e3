/**
 * A fan chart with uPlot: the P5–P95 band shaded, the median and the mean as lines, an optional
 * horizontal line (the cash floor). Dated x axis (UTC days), unit on the y axis, range beneath.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtCompact, fmtDate, fmtMoney } from '../format.ts';

export interface FanBand {
  day: number;
  p5: number;
  p50: number;
  p95: number;
  mean?: number;
}

export function FanChart(props: {
  bands: FanBand[];
  /** Epoch ms of day 0 (UTC midnight). */
  day0: number;
  unit: string;
  color: string;
  /** A level to draw across (e.g. the cash floor), with its label. */
  line?: { value: number; label: string };
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { bands, day0 } = props;
  const x = bands.map((b) => (day0 + b.day * 86_400_000) / 1000);

  useEffect(() => {
    const el = box.current;
    if (!el || bands.length === 0) return;
    const c = props.color;
    const series: uPlot.Series[] = [
      { label: 'day (UTC)', value: (_u, v) => (v === null ? '—' : fmtDate(v * 1000)) },
      { label: 'P95', stroke: `${c}66`, width: 1, points: { show: false }, value: (_u, v) => fmtMoney(v) },
      { label: 'P50 (median)', stroke: c, width: 2, points: { show: false }, value: (_u, v) => fmtMoney(v) },
      { label: 'P5', stroke: `${c}66`, width: 1, points: { show: false }, value: (_u, v) => fmtMoney(v) },
      { label: 'mean', stroke: '#4b5563', width: 1, dash: [4, 4], points: { show: false }, value: (_u, v) => fmtMoney(v) },
    ];
    const data: (number | null)[][] = [
      x,
      bands.map((b) => b.p95),
      bands.map((b) => b.p50),
      bands.map((b) => b.p5),
      bands.map((b) => b.mean ?? null),
    ];
    if (props.line) {
      series.push({
        label: props.line.label,
        stroke: '#b91c1c',
        width: 1.5,
        dash: [8, 4],
        points: { show: false },
        value: (_u, v) => fmtMoney(v),
      });
      data.push(bands.map(() => props.line?.value ?? null));
    }
    const opts: uPlot.Options = {
      width: Math.max(260, el.clientWidth),
      height: props.height ?? 260,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      bands: [{ series: [1, 3], fill: `${c}22` }],
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' } },
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f3' },
          label: props.unit,
          size: 70,
          values: (_u, vals) => vals.map((v) => fmtCompact(v)),
        },
      ],
      series,
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(260, el.clientWidth), height: props.height ?? 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
    // Rebuilt when a new run arrives, not when the page re-renders for its inputs.
  }, [bands, day0, props.line?.value]);

  const first = x[0];
  const last = x[x.length - 1];
  return (
    <figure class="chart" data-testid={props.testId}>
      <div ref={box} />
      <figcaption class="muted small">
        {first !== undefined && last !== undefined
          ? `${fmtDate(first * 1000)} – ${fmtDate(last * 1000)} (${bands.length} days, UTC); shaded: P5–P95 of the simulated paths`
          : 'no days simulated'}
      </figcaption>
    </figure>
  );
}
