// The identity sources outside the state message, each bounded: podman's
// containers/storage record and the bundle's config.json, read with size
// caps, and `podman inspect` with a short timeout and a small cache (one
// spawn per container, even when asked twice). None ever throws.
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { isRecord } from '../profile/json-input.js';
import { isContainerId } from '../record/notify/state-message.js';
import type { IdentityLookups } from './identity.js';

export interface PodmanOptions {
  binary?: string;
  timeoutMs?: number;
  cacheSize?: number;
}

export type PodmanAnswer = { image?: string; name?: string } | undefined;

/** `podman inspect --type container` of one id, cached (answers included "unknown"). */
export class PodmanInspector {
  private readonly cache = new Map<string, Promise<PodmanAnswer>>();
  private readonly binary: string;
  private readonly timeoutMs: number;
  private readonly cacheSize: number;

  constructor(
    private readonly log: Logger,
    opts: PodmanOptions = {},
  ) {
    this.binary = opts.binary ?? 'podman';
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.cacheSize = opts.cacheSize ?? 1024;
  }

  inspect(containerId: string): Promise<PodmanAnswer> {
    const hit = this.cache.get(containerId);
    if (hit) return hit;
    const p = this.run(containerId);
    this.cache.set(containerId, p);
    // Oldest first out: a Map iterates in insertion order.
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return p;
  }

  private run(containerId: string): Promise<PodmanAnswer> {
    // The id came from a runtime's message: only a real id shape, and after "--", so it is never an option.
    if (!isContainerId(containerId)) return Promise.resolve(undefined);
    const args = ['inspect', '--type', 'container', '--format', '{{.ImageName}}\t{{.Name}}', '--', containerId];
    return new Promise((resolve) => {
      execFile(this.binary, args, { timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException & { killed?: boolean }).killed ? `timed out after ${this.timeoutMs} ms` : String(stderr || err.message).trim().split('\n')[0];
          this.log.warn({ container: containerId, reason: why }, 'podman inspect failed; trying the next identity source');
          resolve(undefined);
          return;
        }
        const [image, name] = stdout.trim().split('\t');
        resolve({ image: image || undefined, name: name || undefined });
      });
    });
  }
}

const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

/** The string annotations of `<bundle>/config.json`, or undefined. */
export async function readBundleAnnotations(bundle: string): Promise<Record<string, string> | undefined> {
  let fh;
  try {
    fh = await open(join(bundle, 'config.json'), 'r');
    const { size } = await fh.stat();
    if (size > CONFIG_MAX_BYTES) return undefined;
    const doc: unknown = JSON.parse(await fh.readFile('utf8'));
    if (!isRecord(doc) || !isRecord(doc.annotations)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.annotations)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

const STORAGE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The container's image and name from containers/storage, which podman (and
 * CRI-O) keep at `<graphroot>/<driver>-containers/containers.json`, the bundle
 * being `<that dir>/<id>/userdata`. Each entry's `metadata` is a JSON string
 * holding `image-name` and `name`.
 */
export async function readContainersStorage(bundle: string, containerId: string): Promise<PodmanAnswer> {
  if (basename(bundle) !== 'userdata' || basename(dirname(bundle)) !== containerId) return undefined;
  let fh;
  try {
    fh = await open(join(dirname(dirname(bundle)), 'containers.json'), 'r');
    if ((await fh.stat()).size > STORAGE_MAX_BYTES) return undefined;
    const list: unknown = JSON.parse(await fh.readFile('utf8'));
    const entry = Array.isArray(list) ? list.find((c) => isRecord(c) && c.id === containerId) : undefined;
    if (!isRecord(entry) || typeof entry.metadata !== 'string') return undefined;
    const meta: unknown = JSON.parse(entry.metadata);
    if (!isRecord(meta) || typeof meta['image-name'] !== 'string') return undefined;
    return { image: meta['image-name'], name: typeof meta.name === 'string' ? meta.name : undefined };
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

export function nodeLookups(log: Logger, podman: PodmanOptions = {}): IdentityLookups {
  const inspector = new PodmanInspector(log, podman);
  return {
    podmanStorage: readContainersStorage,
    podman: (id) => inspector.inspect(id),
    bundleAnnotations: readBundleAnnotations,
  };
}
