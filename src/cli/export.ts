// `seccomp-recorder export PROFILE --name NAME [--kubelet-root DIR] [--force]`
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { exportProfile } from '../profile/export.js';
import { loadProfile } from '../profile/load.js';
import { checkProfileName, DEFAULT_KUBELET_ROOT, podSnippet } from '../profile/pod.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

interface ExportCliOptions extends CommonOptions {
  name?: string;
  kubeletRoot: string;
  force?: boolean;
  quiet?: boolean;
}

async function runExport(file: string, opts: ExportCliOptions): Promise<number> {
  try {
    if (!opts.name) throw new UsageError('export needs --name NAME (the file name under <kubelet-root>/seccomp/seccomp-recorder)');
    checkProfileName(opts.name);
    const loaded = loadProfile(file);
    const r = await exportProfile({ profile: loaded.profile, name: opts.name, kubeletRoot: opts.kubeletRoot, force: opts.force }, loaded.file);
    const what = { written: 'wrote', replaced: 'replaced', unchanged: 'already installed, unchanged:' }[r.status];
    if (!opts.quiet) process.stderr.write(`seccomp-recorder: ${what} ${r.path}\n`);
    await writeStdout(`localhostProfile: ${r.localhostProfile}\n${opts.quiet ? '' : `\n${podSnippet(opts.name)}`}`);
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function exportCommandSpec(): Command {
  const cmd = new Command('export')
    .summary("install a profile where the kubelet reads Localhost profiles")
    .description(
      'Writes PROFILE as plain OCI JSON to <kubelet-root>/seccomp/seccomp-recorder/NAME.json (atomically, mode ' +
        '0644) and prints the exact localhostProfile value for the Pod. Run it on every node that may run the Pod: ' +
        'a missing file fails container creation. A different existing profile is kept unless --force.',
    )
    .argument('<profile>', 'profile to install (OCI JSON or SPO YAML)')
    .option('--name <name>', 'file name: letters, digits, ".", "_", "-" (no "/", "..", absolute paths)')
    .option('--kubelet-root <dir>', "the kubelet's root directory", DEFAULT_KUBELET_ROOT)
    .option('--force', 'replace a different profile of the same name')
    .option('-q, --quiet', 'print only the localhostProfile line')
    .action(async (file: string, opts: ExportCliOptions) => {
      process.exitCode = await runExport(file, opts);
    });
  return withCommonOptions(cmd);
}
