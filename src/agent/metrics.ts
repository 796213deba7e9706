// Prometheus text exposition (format 0.0.4), written by hand: a handful of
// counters and gauges do not need a client library. Label values are escaped
// as the format requires; families and samples come out in a stable order.

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

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

/** Counters the agent keeps for its own life (the store holds the durable figures). */
export class AgentCounters {
  containersRecorded = 0;
  notifications = 0;
  lostNotifications = 0;
  journalWriteErrors = 0;
  readonly dropped = new Map<string, number>();

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}

/** A short, bounded label for why a runtime connection was refused. */
export function dropReason(error: string): string {
  const e = error.toLowerCase();
  if (e.includes('no file descriptor')) return 'no-fd';
  if (e.includes('file descriptors were sent')) return 'several-fds';
  if (e.includes('not a seccomp listener')) return 'not-a-listener';
  if (e.includes('larger than')) return 'too-large';
  if (e.includes('within') || e.includes('timed out') || e.includes('stall')) return 'timeout';
  if (e.includes('no container state')) return 'no-state';
  if (e.includes('too many')) return 'overload';
  return 'other';
}
