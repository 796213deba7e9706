// `seccomp-recorder patch FILE...`: point each container of Kubernetes manifests at its Localhost profile.
import { Command, Option } from 'commander';
import { DEFAULT_API_SOCKET } from '../agent/client.js';
import { UsageError } from '../errors.js';
import type { ManifestFile } from '../k8s/manifest.js';
import { expandManifestPaths, readManifest } from '../k8s/manifest.js';
import type { ContainerReport, PatchResult } from '../k8s/patch.js';
import { isCovered, patchManifest } from '../k8s/patch.js';
import { expectedProfileFor, profileResolver } from '../k8s/profile-sources.js';
import { spoObjects } from '../k8s/spo-objects.js';
import { objectLabel, workloadsOf } from '../k8s/workloads.js';
import { exportProfile } from '../profile/export.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { unifiedDiff } from '../util/unified-diff.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

interface PatchCliOptions extends CommonOptions {
  map?: string[];
  kubeletRoot?: string;
  agent?: boolean;
  apiSocket: string;
  force?: boolean;
  format: 'manifest' | 'spo';
  namespace?: string;
  output?: string;
  inPlace?: boolean;
  diff?: boolean;
  quiet?: boolean;
}

const collect = (v: string, all: string[] = []) => [...all, v];

function checkOptions(paths: string[], opts: PatchCliOptions): void {
  const modes = [opts.output && '-o', opts.inPlace && '--in-place', opts.diff && '--diff'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} exclude each other`);
  if (opts.inPlace && paths.includes('-')) throw new UsageError('--in-place cannot rewrite stdin; use -o FILE');
  if (opts.format === 'spo' && (opts.inPlace || opts.diff)) throw new UsageError('--format spo writes new objects (stdout or -o), it does not change the manifests');
  if (!opts.map?.length && !opts.kubeletRoot && !opts.agent) throw new UsageError('say where profiles come from: --map IMAGE=NAME, --kubelet-root DIR (exported profiles) and/or --agent');
}

function where(r: ContainerReport): string {
  const kind = r.containerKind === 'container' ? 'container' : r.containerKind === 'initContainer' ? 'init container' : 'ephemeral container';
  return `${r.file}:${r.line} ${objectLabel(r.workload)} ${kind} "${r.container}"`;
}

function report(reports: ContainerReport[], files: number, exported: string[]): string {
  const lines: string[] = [];
  const count = (c: string) => reports.filter((r) => r.change === c).length;
  lines.push(
    `seccomp-recorder: ${count('set') + count('replaced')} container(s) given a Localhost profile (${count('replaced')} replacing another), ` +
      `${count('unchanged')} already set, ${count('no-profile') + count('no-image')} without a profile; ${files} file(s)`,
  );
  for (const r of reports.filter((x) => x.change === 'replaced')) lines.push(`  replaced ${r.previous} → ${r.choice!.localhostProfile}: ${where(r)}`);
  for (const r of reports.filter((x) => isCovered(x) && x.privileged))
    lines.push(`  PRIVILEGED: ${where(r)}: seccomp is not applied to privileged containers; ${r.choice!.localhostProfile} has no effect until privileged is dropped`);
  for (const e of exported) lines.push(`  ${e}`);
  const missing = reports.filter((x) => x.change === 'no-profile' || x.change === 'no-image');
  if (missing.length) {
    lines.push('no profile for:');
    for (const r of missing) lines.push(`  ${where(r)}: ${r.image ? `${r.image} (looked for ${expectedProfileFor(r.image)})` : 'no image'}`);
  }
  const agentOnly = reports.filter((r) => isCovered(r) && r.choice?.source === 'agent');
  if (agentOnly.length && exported.length === 0)
    lines.push('install the agent\'s profiles on every node (or pass --kubelet-root to export them here): seccomp-recorder recordings profile IMAGE -o p.json && seccomp-recorder export p.json --name NAME');
  return `${lines.join('\n')}\n`;
}

/** With --agent and --kubelet-root, the agent's profiles are installed where the manifests now point. */
async function exportAgentProfiles(reports: ContainerReport[], opts: PatchCliOptions): Promise<string[]> {
  if (!opts.agent || !opts.kubeletRoot) return [];
  const done = new Map<string, string>();
  for (const r of reports) {
    const c = r.choice;
    if (!c || c.source !== 'agent' || !c.profile || done.has(c.name)) continue;
    const res = await exportProfile({ profile: c.profile, name: c.name, kubeletRoot: opts.kubeletRoot, force: opts.force }, `the agent's profile of ${c.image}`);
    done.set(c.name, `${{ written: 'exported', replaced: 'replaced', unchanged: 'already installed:' }[res.status]} ${res.path} (${c.image})`);
  }
  return [...done.values()];
}

async function runPatch(paths: string[], opts: PatchCliOptions): Promise<number> {
  try {
    checkOptions(paths, opts);
    // Everything is read and patched before anything is written: a bad file leaves every file as it was.
    const manifests: ManifestFile[] = expandManifestPaths(paths).map(readManifest);
    const images = manifests.flatMap((m) => workloadsOf(m).flatMap((w) => w.containers.map((c) => c.image).filter((i): i is string => !!i)));
    const resolve = await profileResolver(images, { map: opts.map, kubeletRoot: opts.kubeletRoot, agentSocket: opts.agent ? opts.apiSocket : undefined });
    const results: PatchResult[] = manifests.map((m) => patchManifest(m, resolve));
    const reports = results.flatMap((r) => r.containers);
    let exported: string[] = [];
    if (opts.format === 'spo') {
      const text = spoObjects(reports, { namespace: opts.namespace });
      if (opts.output) await writeFileAtomic(opts.output, text);
      else await writeStdout(text);
    } else if (opts.diff) {
      await writeStdout(results.map((r) => unifiedDiff(r.before, r.after, `a/${r.file}`, `b/${r.file}`)).join(''));
    } else {
      exported = await exportAgentProfiles(reports, opts);
      if (opts.inPlace) {
        for (const r of results) if (r.after !== r.before) await writeFileAtomic(r.file, r.after);
      } else {
        const text = results.map((r) => r.after).join(results.length > 1 ? '---\n' : '');
        if (opts.output) await writeFileAtomic(opts.output, text);
        else await writeStdout(text);
      }
    }
    if (!opts.quiet) process.stderr.write(report(reports, results.length, exported));
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function patchCommandSpec(): Command {
  const cmd = new Command('patch')
    .summary("set each container's Localhost seccomp profile in Kubernetes manifests")
    .description(
      'Sets securityContext.seccompProfile {type: Localhost, localhostProfile: seccomp-recorder/NAME.json} on every container ' +
        '(init and ephemeral ones too) of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs whose image ' +
        'has a profile: from --map IMAGE=NAME, from the agent (--agent), or exported under --kubelet-root by the name derived from ' +
        'the image (nginx:1.27 -> nginx-1.27). Comments and formatting are kept; other objects are left untouched; containers ' +
        'without a profile are listed on stderr. --format spo writes SPO SeccompProfile and ProfileBinding objects instead.',
    )
    .argument('<files...>', 'manifest files or directories; - reads stdin')
    .option('--map <image=name>', 'use the profile exported as NAME for IMAGE (repeatable)', collect)
    .option('--kubelet-root <dir>', 'where profiles are exported (<dir>/seccomp/seccomp-recorder/NAME.json); with --agent, the agent\'s profiles are exported there')
    .option('--agent', "use the profiles the node agent generates from its recordings")
    .option('--api-socket <path>', "the agent's API socket", process.env.SECCOMP_RECORDER_API_SOCKET ?? DEFAULT_API_SOCKET)
    .option('--force', 'with --agent --kubelet-root: replace a different profile already exported under the same name')
    .addOption(new Option('--format <format>', 'manifest: the patched manifests; spo: SPO objects instead').choices(['manifest', 'spo']).default('manifest'))
    .option('--namespace <ns>', '--format spo: the namespace for workloads whose manifest names none')
    .option('-o, --output <file>', 'write the result here (atomically) instead of stdout')
    .option('--in-place', 'rewrite each manifest file (atomically)')
    .option('--diff', 'print a unified diff of the change; write nothing')
    .option('-q, --quiet', 'no report on stderr')
    .action(async (files: string[], opts: PatchCliOptions) => {
      process.exitCode = await runPatch(files, opts);
    });
  return withCommonOptions(cmd);
}
