// The `recordings` commands' side of the API: one HTTP request over the
// agent's unix socket, with a timeout, and errors a user can act on (agent not
// running, socket root-only, image unknown with similar names suggested).
import { request } from 'node:http';
import { RecorderError } from '../errors.js';
import { API_PREFIX } from './api.js';

export const DEFAULT_API_SOCKET = '/run/seccomp-recorder/api.sock';

export class AgentApiError extends RecorderError {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message, { code: status === 404 ? 'ERR_NOT_FOUND' : 'ERR_AGENT', exitCode: status === 400 ? 2 : 1 });
    this.status = status;
  }
}

export interface ApiResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export function apiRequest(socketPath: string, method: string, path: string, timeoutMs = 30_000): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT'
          ? `no agent socket at ${socketPath}: is \`seccomp-recorder agent\` running? (or pass --api-socket)`
          : err.code === 'EACCES'
            ? `permission denied on ${socketPath}: the agent's API is root-only; run this as root`
            : err.code === 'ECONNREFUSED'
              ? `nothing listens on ${socketPath} (a stale socket: the agent is not running)`
              : `cannot talk to the agent at ${socketPath}: ${err.message}`;
      reject(new AgentApiError(why, 0));
    });
    req.end();
  });
}

export const imagePath = (image: string, view?: string) => `${API_PREFIX}/${encodeURIComponent(image)}${view ? `/${view}` : ''}`;

/** Throws the API's own error message for a non-2xx answer. */
export function checkResponse(res: ApiResponse): ApiResponse {
  if (res.status >= 200 && res.status < 300) return res;
  let message = `the agent answered HTTP ${res.status}`;
  try {
    const doc = JSON.parse(res.body) as { error?: string; similar?: string[] };
    if (doc.error) message = doc.error;
    if (doc.similar?.length) message += ` (did you mean: ${doc.similar.join(', ')}?)`;
  } catch {
    /* not JSON: keep the status line */
  }
  throw new AgentApiError(message, res.status);
}

export async function apiJson<T>(socketPath: string, method: string, path: string): Promise<T> {
  const res = checkResponse(await apiRequest(socketPath, method, path));
  return JSON.parse(res.body) as T;
}
