// What each API request answers (api.ts routes to these): health, metrics,
// the list, one image's detail, recording and profile, reset, and name
// suggestions, read from the store, the live containers and the baselines.
import type { Logger } from 'pino';
import type { AgentApi } from './api.js';
import type { BaselineCatalog } from './baselines.js';
import { imageProfile, namespacesFromQuery, profileOptionsFromQuery } from './image-profile.js';
import type { ContainerLedger } from './ledger.js';
import type { RecordingStore } from './store.js';
import { imageRecording, listImages, showImage } from './views.js';

export interface ApiHandlerDeps {
  store: RecordingStore;
  ledger: ContainerLedger;
  baselines: BaselineCatalog;
  log: Logger;
  /** True once the agent drains (health says so). */
  draining: () => boolean;
  /** Why journal writes fail now, if they do: health says degraded. */
  journalFailing: () => string | undefined;
  /** The /metrics body. */
  metrics: () => string;
}

/** The image's recording; losses that hit its live containers count already. */
function recordingOf(d: ApiHandlerDeps, image: string, namespaces?: readonly string[]) {
  const rec = imageRecording(d.store.state, image, namespaces);
  const liveLost = d.ledger.lostByImage().get(image) ?? 0;
  if (rec && liveLost) rec.stats.lost += liveLost;
  return rec;
}

export function apiHandlers(d: ApiHandlerDeps): AgentApi {
  const { store, ledger } = d;
  return {
    health: () => {
      const failing = d.journalFailing();
      return {
        status: d.draining() ? ('draining' as const) : failing !== undefined ? ('degraded' as const) : ('ok' as const),
        liveContainers: ledger.size,
        images: store.state.images.size,
        journalLagSeconds: store.lag().seconds,
        ...(failing !== undefined ? { journalError: failing, journalPendingRecords: store.lag().pending } : {}),
      };
    },
    metrics: d.metrics,
    list: () => ({
      images: listImages(store.state, ledger.liveByImage()),
      runtimes: [...store.state.runtimes.values()]
        .sort((a, b) => a.runtime.localeCompare(b.runtime))
        .map((rt) => ({ runtime: rt.runtime, containers: rt.containers.size, syscalls: rt.calls.size, lastActivity: rt.lastActivity })),
      live: ledger.summaries(),
    }),
    show: (image: string) => {
      const detail = showImage(store.state, image, ledger.liveByImage());
      const liveLost = ledger.lostByImage().get(image) ?? 0;
      return detail && liveLost ? { ...detail, lost: detail.lost + liveLost, incomplete: true } : detail;
    },
    recording: (image: string, query: URLSearchParams) => recordingOf(d, image, namespacesFromQuery(query)),
    profile: (image: string, query: URLSearchParams) => {
      const opts = profileOptionsFromQuery(query);
      const baseline = d.baselines.resolve(opts.baseline);
      const rec = recordingOf(d, image, opts.fromNamespaces);
      if (!rec) return undefined;
      const { text, report } = imageProfile(rec, opts, baseline);
      const left = report.deniedByBaseline.length - report.allowedBeyondDefault.length;
      return {
        text,
        contentType: opts.format === 'oci' ? 'application/json' : 'application/yaml',
        summary:
          `${report.allowed.length} syscalls allowed (${report.runtimeOnly.length} only for the runtime's start-up)` +
          `${report.equivalents.length ? `; plus ${report.equivalents.length} equivalents of recorded calls (${report.equivalents.map((e) => e.syscall).join(',')}; exact=1 leaves them out)` : ''}` +
          `${opts.fromNamespaces ? `; from namespace${opts.fromNamespaces.length > 1 ? 's' : ''} ${opts.fromNamespaces.join(', ')} only` : ''}` +
          `${left ? `; ${left} recorded but denied by the baseline, left out: ${report.deniedByBaseline.join(',')}` : ''}` +
          `${report.hasBaseline ? '' : '; no baseline'}` +
          `${store.state.images.get(image)?.privileged.size ? '; ran PRIVILEGED (no seccomp): this profile applies only once the container runs unprivileged' : ''}` +
          `${rec.stats.lost ? `; INCOMPLETE: at least ${rec.stats.lost} records lost while recording, re-record to be sure` : ''}`,
      };
    },
    reset: async (image: string) => {
      if (!store.state.images.has(image)) return false;
      store.record({ k: 'reset', at: new Date().toISOString(), image });
      await store.flush();
      d.log.info({ image }, 'recording reset');
      return true;
    },
    similar: (image: string) => {
      const needle = image.toLowerCase();
      return [...store.state.images.keys()].filter((k) => k.toLowerCase().includes(needle) || needle.includes(k.toLowerCase())).sort().slice(0, 10);
    },
  };
}
