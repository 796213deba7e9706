// The agent's metric catalogue: every family /metrics exposes, with its name,
// help and type, read from the agent's parts at scrape time. Rendering the
// text format is metrics.ts's job; the sources add their own families.
import type { ApiRefusals } from './api-access.js';
import type { ContainerLedger } from './ledger.js';
import type { AgentCounters, MetricFamily } from './metrics.js';
import type { RecordingStore } from './store.js';

/** What the catalogue reads; everything is looked at when scraped, never cached. */
export interface MetricInputs {
  counters: AgentCounters;
  store: RecordingStore;
  ledger: ContainerLedger;
  /** Undefined until the API listens. */
  apiRefused: ApiRefusals | undefined;
  /** The container source's own families (src/record/container-source.ts). */
  sourceMetrics: () => MetricFamily[];
}

export function agentMetricFamilies(m: MetricInputs): MetricFamily[] {
  const c = m.counters;
  const lag = m.store.lag();
  const images = [...m.store.state.images.values()];
  const liveLost = m.ledger.lostByImage();
  return [
    { name: 'seccomp_recorder_containers_recorded_total', help: 'Containers attributed and recorded since the agent started.', type: 'counter', samples: [{ value: c.containersRecorded }] },
    // No per-image (or per-namespace) labels: their number grows with what tenants run. Per-image figures are in the API.
    { name: 'seccomp_recorder_images', help: 'Images in the recorded state.', type: 'gauge', samples: [{ value: images.length }] },
    { name: 'seccomp_recorder_live_containers', help: 'Containers being recorded now.', type: 'gauge', samples: [{ value: m.ledger.size }] },
    {
      name: 'seccomp_recorder_images_incomplete',
      help: 'Images whose recording missed calls (lost notifications or audit records); `recordings list`/`show` name them.',
      type: 'gauge',
      samples: [{ value: images.filter((i) => i.lost + (liveLost.get(i.image) ?? 0) > 0).length }],
    },
    { name: 'seccomp_recorder_journal_lag_seconds', help: 'Age of the oldest record not yet fsynced to the journal.', type: 'gauge', samples: [{ value: lag.seconds }] },
    { name: 'seccomp_recorder_journal_pending_records', help: 'Records applied but not yet durable.', type: 'gauge', samples: [{ value: lag.pending }] },
    { name: 'seccomp_recorder_journal_bytes', help: 'Size of the journal since the last compaction.', type: 'gauge', samples: [{ value: m.store.journalBytes }] },
    {
      name: 'seccomp_recorder_api_refused_total',
      help: 'API clients refused: peer-not-allowed (per connection: neither root nor the configured reader), read-only (per request the reader may not make).',
      type: 'counter',
      samples: Object.entries(m.apiRefused ?? {}).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    { name: 'seccomp_recorder_journal_write_errors_total', help: 'Journal flushes that failed (records kept for the next one).', type: 'counter', samples: [{ value: c.journalWriteErrors }] },
    ...m.sourceMetrics(),
  ];
}
