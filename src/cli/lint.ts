// `seccomp-recorder lint FILE... | -`: Pod security checks of Kubernetes manifests (text, JSON, SARIF).
import { Command, Option } from 'commander';
import { DEFAULT_API_SOCKET } from '../agent/client.js';
import { UsageError } from '../errors.js';
import { failingFindings, lintManifests } from '../k8s/lint.js';
import type { LintFormat } from '../k8s/lint-output.js';
import { LINT_FORMATS, renderLint } from '../k8s/lint-output.js';
import { expandManifestPaths, readManifest } from '../k8s/manifest.js';
import type { RecordingMap } from '../k8s/recordings.js';
import { recordingLookup, recordingsFromAgent, recordingsFromFiles } from '../k8s/recordings.js';
import { workloadsOf } from '../k8s/workloads.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

interface LintCliOptions extends CommonOptions {
  format: LintFormat;
  output?: string;
  kubeletRoot?: string;
  recording?: string[];
  agent?: boolean;
  apiSocket: string;
}

const collect = (v: string, all: string[] = []) => [...all, v];

async function runLint(paths: string[], opts: LintCliOptions): Promise<number> {
  try {
    if ((opts.agent || opts.recording?.length) && !opts.kubeletRoot)
      throw new UsageError('--agent and --recording check Localhost profiles against recordings: give --kubelet-root, where the profiles are read');
    const manifests = expandManifestPaths(paths).map(readManifest);
    let recordings: RecordingMap = recordingsFromFiles(opts.recording ?? []);
    if (opts.agent) {
      const images = manifests.flatMap((m) => workloadsOf(m).flatMap((w) => w.containers.map((c) => c.image).filter((i): i is string => !!i)));
      const fromAgent = await recordingsFromAgent(opts.apiSocket, images);
      recordings = new Map([...fromAgent, ...recordings]);
    }
    const result = lintManifests(manifests, { kubeletRoot: opts.kubeletRoot, recordingFor: recordingLookup(recordings) });
    const text = renderLint(result, opts.format);
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    return failingFindings(result).length ? 1 : 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function lintCommandSpec(): Command {
  const cmd = new Command('lint')
    .summary('check the Pod security settings of Kubernetes manifests (text, JSON, SARIF)')
    .description(
      'Checks every Pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ...; init and ephemeral ' +
        'containers too) for seccomp, privilege, capability, user, host namespace, /proc, AppArmor and SELinux settings, and, ' +
        'with --kubelet-root and recordings, whether each Localhost seccomp profile is installed and allows what was recorded. ' +
        'Accept a finding for one object with the annotation seccomp-recorder.io/accept-RULE: "reason". ' +
        'Exit 1 when an error is not accepted, 2 for unreadable input.',
    )
    .argument('<files...>', 'manifest files or directories (*.yaml, *.yml, *.json under them); - reads stdin')
    .addOption(new Option('--format <format>', 'output format').choices([...LINT_FORMATS]).default('text'))
    .option('-o, --output <file>', 'write the report here (atomically) instead of stdout')
    .option('--kubelet-root <dir>', 'check Localhost profiles against <dir>/seccomp (as `export --kubelet-root` writes them)')
    .option('--recording <image=file>', 'a saved recording of IMAGE: its Localhost profile must allow it (with --kubelet-root; repeatable)', collect)
    .option('--agent', 'ask the node agent what was recorded for each image (with --kubelet-root)')
    .option('--api-socket <path>', "the agent's API socket", process.env.SECCOMP_RECORDER_API_SOCKET ?? DEFAULT_API_SOCKET)
    .action(async (files: string[], opts: LintCliOptions) => {
      process.exitCode = await runLint(files, opts);
    });
  return withCommonOptions(cmd);
}
