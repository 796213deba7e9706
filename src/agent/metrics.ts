// Prometheus text exposition (format 0.0.4), written by hand: a handful of
// counters and gauges do not need a client library. Label values are escaped
// as the format requires; families and samples come out in a stable order.

import type { MetricFamily } from '../record/container-source.js';

export type { MetricFamily, MetricType, Sample } from '../record/container-source.js';
export { dropReason } from '../record/notify/container-source.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels![k])}"`).join(',')}}`;
}

export function renderMetrics(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const samples = [...f.samples].sort((a, b) => formatLabels(a.labels).localeCompare(formatLabels(b.labels)));
    for (const s of samples) out.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${out.join('\n')}\n`;
}

/** Counters the agent keeps for its own life (the store holds the durable figures; sources keep theirs). */
export class AgentCounters {
  containersRecorded = 0;
  journalWriteErrors = 0;
}
