/**
 * Time series with uPlot. Every chart names its unit on the axis and its time range under it
 * (the dashboard's rule: no chart without units and a range).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtTime } from './format.ts';

export interface Series {
  label: string;
  values: (number | null)[];
  color?: string;
  /** Draw as a dashed line (an interval bound, a forecast). */
  dash?: boolean;
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d'];

export function colorOf(i: number): string {
  return PALETTE[i % PALETTE.length] ?? '#4b5563';
}

export interface TimeChartProps {
  /** Epoch milliseconds, ascending. */
  x: number[];
  series: Series[];
  /** Unit of the y axis, e.g. "events / min", "USD". */
  unit: string;
  height?: number;
  testId?: string;
  /** Shown under the chart instead of the computed range. */
  rangeNote?: string;
  /** Bars instead of lines. */
  bars?: boolean;
}

export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = `${props.series.map((s) => s.label).join('|')}:${props.bars ? 'b' : 'l'}:${props.unit}`;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' } },
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, label: props.unit, size: 60 },
      ],
      series: [
        { label: 'time (UTC)', value: (_u, v) => (v === null ? '—' : fmtTime(v * 1000)) },
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? colorOf(i),
          width: 2,
          ...(s.dash ? { dash: [6, 4] } : {}),
          ...(props.bars ? { paths: uPlot.paths.bars?.({ size: [0.7, 40] }), fill: `${s.color ?? colorOf(i)}88` } : {}),
          points: { show: props.x.length < 24, size: 6 },
        })),
      ],
    };
    const u = new uPlot(opts, toData(props), el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = undefined;
    };
    // Rebuilt only when the series' shape changes; new values go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(toData(props));
  });

  const first = props.x[0];
  const last = props.x[props.x.length - 1];
  return (
    <figure class="chart" data-testid={props.testId}>
      <div ref={box} />
      <figcaption class="muted small">
        {props.rangeNote ?? (first !== undefined && last !== undefined ? `${fmtTime(first)} – ${fmtTime(last)}` : 'no data in range yet')}
      </figcaption>
    </figure>
  );
}

function toData(p: TimeChartProps): uPlot.AlignedData {
  return [p.x.map((t) => t / 1000), ...p.series.map((s) => s.values)] as uPlot.AlignedData;
}
