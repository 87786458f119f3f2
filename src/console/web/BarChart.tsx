// Bar charts for the dashboard, drawn as SVG by React: the dashboard's charts are all bars, which an SVG
// of rectangles draws in a few lines, where a chart library (Chart.js ~70 KB gzip) would take a quarter
// of the console's 300 KB budget. Each chart is a <figure> whose data is also a table for screen readers
// and keyboard users (the SVG itself is aria-hidden).

export interface Bar {
  label: string;
  value: number;
}

export function BarChart({ title, bars, valueLabel, height = 140 }: { title: string; bars: Bar[]; valueLabel: string; height?: number }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = 100 / Math.max(1, bars.length);
  return (
    <figure className="chart" dir="ltr">
      {/* Time runs left to right in both languages, as on a clock or a calendar page. */}
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 100 ${height / 2}`} preserveAspectRatio="none" aria-hidden="true" className="bars" style={{ blockSize: `${height}px` }}>
        {bars.map((b, i) => {
          const h = (b.value / max) * (height / 2 - 2);
          return <rect key={b.label} x={i * w + w * 0.15} width={w * 0.7} y={height / 2 - h} height={h} />;
        })}
      </svg>
      <div className="bar-labels" dir="ltr" aria-hidden="true">
        {bars.map((b) => (
          <span key={b.label} style={{ inlineSize: `${w}%` }}>
            {b.label}
          </span>
        ))}
      </div>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td>
                {b.value} {valueLabel}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A horizontal bar inside a table cell: the share of `value` in `max`, with the number beside it. */
export function Meter({ value, max }: { value: number; max: number }) {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <span className="meter">
      <span className="meter-bar" aria-hidden="true">
        <span style={{ inlineSize: `${pct}%` }} />
      </span>
      <span className="meter-value">{value.toLocaleString()}</span>
    </span>
  );
}
