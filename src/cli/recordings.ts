// `seccomp-recorder recordings list|show|profile|recording|reset|health`: the
// agent's recordings (and its /healthz), read through its API socket.
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { apiJson, apiRequest, checkResponse, DEFAULT_API_SOCKET, imagePath } from '../agent/client.js';
import type { ImageDetail, ImageSummary } from '../agent/views.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { argsOption, reportError, withCommonOptions, writeStdout } from './common.js';

interface ApiOptions extends CommonOptions {
  apiSocket: string;
  json?: boolean;
}

interface ListAnswer {
  images: ImageSummary[];
  runtimes: { runtime: string; containers: number; syscalls: number; lastActivity: string }[];
  live: { container?: string; image?: string; runtime: string; since: string }[];
}

function withApi(cmd: Command): Command {
  return withCommonOptions(
    cmd
      .option('--api-socket <path>', 'the agent\'s API socket', process.env.SECCOMP_RECORDER_API_SOCKET ?? DEFAULT_API_SOCKET)
      .exitOverride()
      .showHelpAfterError('(run with --help for usage)'),
  );
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

const shortTime = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

export function formatList(a: ListAnswer): string {
  if (!a.images.length && !a.runtimes.length)
    return 'no recordings yet: run containers with the profile from `seccomp-recorder recording-profile`\n';
  const rows = [['IMAGE', 'CONTAINERS', 'LIVE', 'SYSCALLS', 'LAST ACTIVITY', 'IDENTIFIED BY']];
  for (const i of a.images) rows.push([i.image, String(i.containers), String(i.liveContainers), String(i.syscalls), shortTime(i.lastActivity), i.sources.join(',')]);
  const lines = [table(rows)];
  for (const r of a.runtimes)
    lines.push(`runtime ${r.runtime}: ${r.syscalls} start-up syscalls over ${r.containers} container(s) (attributed to the runtime, added to its images' profiles)`);
  const unattributed = a.live.filter((l) => !l.image).length;
  if (unattributed) lines.push(`${unattributed} live container(s) not attributed yet`);
  return `${lines.join('\n')}\n`;
}

function wrap(words: string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent.length) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

export function formatShow(d: ImageDetail): string {
  const out: string[] = [];
  out.push(`image:          ${d.image}`);
  out.push(`identified by:  ${d.sources.join(', ')}`);
  out.push(`containers:     ${d.containers} seen, ${d.liveContainers} live; first ${shortTime(d.firstSeen)}, last activity ${shortTime(d.lastActivity)}`);
  out.push(`notifications:  ${d.notifications} (from finished containers; ${d.lost} lost)`);
  if (d.incomplete) out.push(`INCOMPLETE:     at least ${d.lost} calls or audit records went missing while recording: some syscalls may be absent; re-record to be sure`);
  for (const g of d.gaps ?? [])
    out.push(`NOT SEEN:       container ${g.container} from ${g.from ? shortTime(g.from) : 'its start'} to ${shortTime(g.to)} (no agent was recording it then): calls made only then are missing`);
  if (d.privileged)
    out.push('PRIVILEGED:     some containers ran privileged (seccomp off): a profile from this recording applies only once they run unprivileged');
  for (const [rt, calls] of Object.entries(d.runtimeCalls))
    out.push(`runtime ${rt}:    ${calls.length} start-up syscalls, attributed to the runtime (added to this image's profile)`);
  if (d.assumed.length) out.push(`not observed:   ${d.assumed.join(', ')} (the recording profile lets them through; always allowed)`);
  const byArch = new Map<string, string[]>();
  for (const c of d.calls) {
    if (!byArch.has(c.arch)) byArch.set(c.arch, []);
    byArch.get(c.arch)!.push(c.syscall ?? `#${c.nr}`);
  }
  // Older agents do not say; '' is containers of no known namespace.
  if (d.namespaces) out.push(`namespaces:     ${d.namespaces.map((n) => n || '- (none known)').join(', ') || 'none'} (select with profile --from-namespace NS)`);
  if (d.runs) {
    const r = d.runs;
    const partial = r.complete ? '' : ' (since this agent version; earlier runs were not counted)';
    if (r.count === 1) out.push(`runs:           1 container made workload calls: the profile rests on a single run; record more (or ship a canary: generate --unrecorded log)`);
    else if (r.count > 1)
      out.push(
        r.onlyOnce.length
          ? `runs:           ${r.count} containers made workload calls${partial}; ${r.onlyOnce.length} syscalls seen in one run only: ${r.onlyOnce.join(' ')}`
          : `runs:           ${r.count} containers made workload calls${partial}; every syscall was seen in more than one`,
      );
  }
  out.push(`syscalls:       ${d.syscalls}`);
  for (const [arch, names] of byArch) out.push(`  ${arch} (${names.length}):`, wrap(names, '    '));
  if (d.groups.length) {
    out.push('by container name and namespace:');
    for (const g of d.groups) {
      const who = `${g.namespace ?? '-'}/${g.name ?? '-'}`;
      out.push(`  ${who}: ${g.containers} container(s), ${g.syscalls} syscalls, last activity ${shortTime(g.lastActivity)}`);
      if (g.pods?.length) out.push(`    pods: ${g.pods.join(' ')}`);
      if (g.onlyHere.length) out.push(`    only here: ${g.onlyHere.join(' ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Runs one subcommand's work; errors become `error: ...` and the exit code. */
async function guarded(opts: CommonOptions, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

async function writeOut(text: string, output: string | undefined): Promise<void> {
  if (output) await writeFileAtomic(output, text);
  else await writeStdout(text);
}

async function list(opts: ApiOptions): Promise<void> {
  const a = await apiJson<ListAnswer>(opts.apiSocket, 'GET', '/v1/recordings');
  await writeStdout(opts.json ? `${JSON.stringify(a, null, 2)}\n` : formatList(a));
}

async function show(image: string, opts: ApiOptions): Promise<void> {
  const d = await apiJson<ImageDetail>(opts.apiSocket, 'GET', imagePath(image));
  await writeStdout(opts.json ? `${JSON.stringify(d, null, 2)}\n` : formatShow(d));
}

/** GET /healthz: its answer on stdout; any failure (no agent, no answer, not 200) is an error. */
async function health(opts: ApiOptions): Promise<void> {
  const h = await apiJson<{ status: string }>(opts.apiSocket, 'GET', '/healthz');
  await writeStdout(opts.json ? `${JSON.stringify(h)}\n` : `${h.status}\n`);
}

interface ProfileCliOptions extends ApiOptions {
  format: string;
  name?: string;
  namespace?: string;
  spoVersion: string;
  baseline?: string | false;
  caps?: string;
  arch?: string;
  allowBeyondDefault?: boolean;
  exact?: boolean;
  args: string;
  output?: string;
  quiet?: boolean;
  fromNamespace?: string[];
}

const collect = (v: string, all: string[] = []) => [...all, v];

export function profileQuery(opts: ProfileCliOptions): URLSearchParams {
  const q = new URLSearchParams({ format: opts.format, spoVersion: opts.spoVersion });
  if (opts.name) q.set('name', opts.name);
  if (opts.namespace) q.set('namespace', opts.namespace);
  if (opts.baseline === false) q.set('baseline', 'none');
  else if (typeof opts.baseline === 'string') {
    // The agent reads no path a client names (it runs as root): only its own baselines, by name.
    if (opts.baseline.includes('/'))
      throw new UsageError(
        `--baseline names one of the agent's baselines ("default" or a file of its --baseline-dir), not a path: got "${opts.baseline}". ` +
          'To build on a file of your own: `recordings recording IMAGE -o rec.json`, then `generate rec.json --baseline FILE`',
      );
    q.set('baseline', opts.baseline);
  }
  if (opts.caps !== undefined) q.set('caps', opts.caps);
  if (opts.arch) q.set('arch', opts.arch);
  if (opts.allowBeyondDefault) q.set('allowBeyondDefault', '1');
  if (opts.exact) q.set('exact', '1');
  q.set('args', opts.args);
  for (const ns of opts.fromNamespace ?? []) q.append('fromNamespace', ns);
  return q;
}

async function profile(image: string, opts: ProfileCliOptions): Promise<void> {
  if (opts.format === 'pod' && !opts.name) throw new UsageError('--format pod needs --name (the profile file name used with export)');
  const res = checkResponse(await apiRequest(opts.apiSocket, 'GET', `${imagePath(image, 'profile')}?${profileQuery(opts)}`));
  await writeOut(res.body, opts.output);
  const summary = res.headers['x-seccomp-recorder-summary'];
  if (!opts.quiet && typeof summary === 'string') process.stderr.write(`seccomp-recorder: ${image}: ${summary} → ${opts.output ?? 'stdout'}\n`);
}

async function recording(image: string, opts: ApiOptions & { output?: string; fromNamespace?: string[] }): Promise<void> {
  const q = new URLSearchParams();
  for (const ns of opts.fromNamespace ?? []) q.append('fromNamespace', ns);
  const query = q.size ? `?${q}` : '';
  await writeOut(checkResponse(await apiRequest(opts.apiSocket, 'GET', `${imagePath(image, 'recording')}${query}`)).body, opts.output);
}

async function reset(image: string, opts: ApiOptions): Promise<void> {
  await apiJson(opts.apiSocket, 'DELETE', imagePath(image));
  process.stderr.write(`seccomp-recorder: forgot everything recorded for ${image}\n`);
}

export function recordingsCommandSpec(): Command {
  const cmd = new Command('recordings')
    .summary("read the node agent's per-image recordings")
    .description('Talks to `seccomp-recorder agent` over its API socket (root-only).');
  cmd.addCommand(
    withApi(new Command('list').summary('images recorded: containers seen, syscalls, last activity').option('--json', 'the API answer as JSON')).action(
      async (opts: ApiOptions) => {
        process.exitCode = await guarded(opts, () => list(opts));
      },
    ),
  );
  cmd.addCommand(
    withApi(
      new Command('health')
        .summary("the agent's /healthz: exit 0 while it answers (status ok, draining on SIGTERM, degraded while journal writes fail); for an exec liveness probe")
        .option('--json', 'the API answer as JSON'),
    ).action(async (opts: ApiOptions) => {
      process.exitCode = await guarded(opts, () => health(opts));
    }),
  );
  cmd.addCommand(
    withApi(
      new Command('show').summary('one image: its syscalls, runtimes, containers by name and namespace').argument('<image>', 'image reference as listed').option('--json', 'the API answer as JSON'),
    ).action(async (image: string, opts: ApiOptions) => {
      process.exitCode = await guarded(opts, () => show(image, opts));
    }),
  );
  cmd.addCommand(
    withApi(
      new Command('profile')
        .summary("generate an image's profile (as `generate` does) from what the agent recorded")
        .argument('<image>', 'image reference as listed')
        .addOption(new Option('--format <format>', 'output format').choices(['oci', 'spo', 'pod']).default('oci'))
        .option('--name <name>', 'spo: object name (default: from the image); pod: file name used by export')
        .option('--namespace <namespace>', 'metadata.namespace for --format spo')
        .addOption(new Option('--spo-version <version>', 'SeccompProfile API version').choices(['v1', 'v1beta1']).default('v1'))
        .option('--baseline <name>', 'runtime default to build on: "default" (the node\'s containers-common one) or the name of a file in the agent\'s --baseline-dir')
        .option('--no-baseline', 'do not build on a runtime default')
        .option('--caps <list>', "the container's capabilities (default: Docker's default set)")
        .option('--arch <list>', 'architectures the profile must cover (recorded ones are always included)')
        .option('--allow-beyond-default', 'allow recorded syscalls the baseline denies')
        .option('--exact', 'only what was recorded: do not add the equivalents of recorded calls')
        .addOption(argsOption())
        .option('--from-namespace <ns>', 'only calls of containers in this Kubernetes namespace (repeatable; "-": of no known namespace)', collect)
        .option('-o, --output <file>', 'write here (atomically) instead of stdout')
        .option('-q, --quiet', 'no summary on stderr'),
    ).action(async (image: string, opts: ProfileCliOptions) => {
      process.exitCode = await guarded(opts, () => profile(image, opts));
    }),
  );
  cmd.addCommand(
    withApi(
      new Command('recording')
        .summary('the image as a saved recording, for `generate` and `merge`')
        .argument('<image>', 'image reference as listed')
        .option('--from-namespace <ns>', 'only calls of containers in this Kubernetes namespace (repeatable; "-": of no known namespace)', collect)
        .option('-o, --output <file>', 'write here (atomically) instead of stdout'),
    ).action(async (image: string, opts: ApiOptions & { output?: string; fromNamespace?: string[] }) => {
      process.exitCode = await guarded(opts, () => recording(image, opts));
    }),
  );
  cmd.addCommand(
    withApi(new Command('reset').summary('forget what was recorded for an image').argument('<image>', 'image reference as listed')).action(
      async (image: string, opts: ApiOptions) => {
        process.exitCode = await guarded(opts, () => reset(image, opts));
      },
    ),
  );
  return cmd;
}
