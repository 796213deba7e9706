// The agent's HTTP API on a unix socket (0600, in a 0700 directory): list,
// show, recording, profile, reset, /healthz and Prometheus /metrics. Routing
// and error shapes live here; what each answer holds comes from AgentApi.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { InputError, RecorderError, UsageError } from '../errors.js';
import { prepareSocketDir } from '../util/socket-dir.js';
import type { ApiAccessOptions, ApiRefusals, PeerAccess } from './api-access.js';
import { hasReaders, peerAccess } from './api-access.js';

export const API_PREFIX = '/v1/recordings';

export interface AgentApi {
  health(): { status: 'ok' | 'draining' | 'degraded'; [k: string]: unknown };
  metrics(): string;
  list(): unknown;
  show(image: string): unknown | undefined;
  /** `query` may restrict it to namespaces (fromNamespace=NS, repeatable). */
  recording(image: string, query: URLSearchParams): unknown | undefined;
  /** Text plus a one-line summary; undefined when the image is unknown. */
  profile(image: string, query: URLSearchParams): { text: string; contentType: string; summary: string } | undefined;
  /** False when the image is unknown. Resolves once the reset is durable. */
  reset(image: string): Promise<boolean>;
  /** Images whose name contains the given text, to suggest on a miss. */
  similar(image: string): string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, `${JSON.stringify(value, null, 2)}\n`, 'application/json');

function notFound(api: AgentApi, image: string): HttpError {
  const similar = api.similar(image);
  return new HttpError(404, `no recording for image "${image}"`, similar.length ? { similar } : {});
}

async function route(api: AgentApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const only = (...methods: string[]) => {
    if (!methods.includes(method)) throw new HttpError(405, `${method} is not allowed on ${path}`);
  };
  if (path === '/healthz') {
    only('GET', 'HEAD');
    return sendJson(res, 200, api.health());
  }
  if (path === '/metrics') {
    only('GET');
    return send(res, 200, api.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
  }
  if (path === API_PREFIX || path === `${API_PREFIX}/`) {
    only('GET');
    return sendJson(res, 200, api.list());
  }
  if (!path.startsWith(`${API_PREFIX}/`)) throw new HttpError(404, `no such endpoint: ${path}`);
  // The image is one percent-encoded path segment (its own "/" and ":" encoded), optionally followed by a view.
  const rest = path.slice(API_PREFIX.length + 1).split('/');
  if (rest.length > 2 || !rest[0]) throw new HttpError(404, `no such endpoint: ${path} (encode the image name as one path segment)`);
  let image: string;
  try {
    image = decodeURIComponent(rest[0]);
  } catch {
    throw new HttpError(400, 'the image name is not valid percent-encoding');
  }
  const view = rest[1];
  if (view === undefined) {
    if (method === 'DELETE') {
      if (!(await api.reset(image))) throw notFound(api, image);
      return sendJson(res, 200, { image, reset: true });
    }
    only('GET');
    const detail = api.show(image);
    if (detail === undefined) throw notFound(api, image);
    return sendJson(res, 200, detail);
  }
  only('GET');
  if (view === 'recording') {
    const rec = api.recording(image, url.searchParams);
    if (rec === undefined) throw notFound(api, image);
    return sendJson(res, 200, rec);
  }
  if (view === 'profile') {
    const p = api.profile(image, url.searchParams);
    if (p === undefined) throw notFound(api, image);
    return send(res, 200, p.text, p.contentType, { 'x-seccomp-recorder-summary': p.summary });
  }
  throw new HttpError(404, `no such view "${view}" (recording, profile)`);
}

/** What a reader may do: GET (or HEAD) of health, metrics, the list and one image's summary. */
export function readerMayAsk(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/healthz' || path === '/metrics' || path === API_PREFIX || path === `${API_PREFIX}/`) return true;
  if (!path.startsWith(`${API_PREFIX}/`)) return false;
  return path.slice(API_PREFIX.length + 1).split('/').length === 1;
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof UsageError || err instanceof InputError) return 400;
  if (err instanceof RecorderError) return 409;
  return 500;
}

export interface ApiServer {
  readonly path: string;
  /** Refused peers (per connection) and refused reader requests, since start. */
  readonly refused: ApiRefusals;
  close(): Promise<void>;
}

/**
 * Listens on `path`, replacing a stale socket there (any other file is an
 * error). Each connection's peer is checked (api-access.ts): root, or a
 * configured reader for read-only requests. With a reader configured the
 * socket is 0666 (in a 0711 directory when the agent creates it) so the
 * reader can connect at all, and SO_PEERCRED is what keeps others out.
 */
export async function startApiServer(path: string, api: AgentApi, log: Logger, access: ApiAccessOptions = {}): Promise<ApiServer> {
  const readers = hasReaders(access);
  prepareSocketDir(path, '--api-socket', readers ? 0o711 : 0o700);
  const refused: ApiRefusals = { 'peer-not-allowed': 0, 'read-only': 0 };
  const peers = new WeakMap<object, PeerAccess>();
  try {
    if (!lstatSync(path).isSocket()) throw new UsageError(`${path} exists and is not a socket`);
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const server: Server = createServer((req, res) => {
    const peer = peers.get(req.socket) ?? { level: 'refused', why: 'unknown connection' };
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    if (peer.level === 'refused') return sendJson(res.setHeader('connection', 'close'), 403, { error: `the agent's API refused this client: ${peer.why}` });
    if (peer.level === 'reader' && !readerMayAsk(method, path)) {
      refused['read-only']++;
      log.warn({ peerUid: peer.uid, peerPid: peer.pid, method, path }, 'API request refused: the reader may only GET health, metrics, list and show');
      return sendJson(res, 403, { error: `uid ${peer.uid} is the agent's read-only API reader: it may GET /healthz, /metrics, ${API_PREFIX} and ${API_PREFIX}/IMAGE only, not ${method} ${path}` });
    }
    route(api, req, res).catch((err: unknown) => {
      const status = statusOf(err);
      if (status >= 500) log.error({ url: req.url, reason: (err as Error).message }, 'API request failed');
      if (res.headersSent) return void res.destroy();
      sendJson(res, status, { error: (err as Error).message, ...(err instanceof HttpError ? err.extra : {}) });
    });
  });
  server.on('connection', (socket) => {
    const peer = peerAccess(socket, access);
    peers.set(socket, peer);
    if (peer.level === 'refused') {
      refused['peer-not-allowed']++;
      log.warn({ peerUid: peer.uid, peerPid: peer.pid, reason: peer.why }, 'API client refused');
    }
  });
  // A stalled API client must not hold a connection for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created by listen() itself: make it 0600 from its first moment.
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
  chmodSync(path, readers ? 0o666 : 0o600);
  return {
    path,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }),
  };
}
