#!/usr/bin/env node
// Entry point: one subcommand per file in this folder.
import { Command, CommanderError } from 'commander';
import { TOOL } from '../version.js';
type CommandSpec = () => Command;

/**
 * Each command's module, loaded on demand: a run loads only the command it
 * names (loading all of them cost about as much CPU as node's own start-up,
 * and import-audit's figures count it); help and unknown names load all.
 * Listed in the order `--help` shows them.
 */
const COMMANDS: [name: string, load: () => Promise<CommandSpec>][] = [
  ['record', async () => (await import('./record.js')).recordCommandSpec],
  ['doctor', async () => (await import('./doctor.js')).doctorCommandSpec],
  ['diff', async () => (await import('./diff.js')).diffCommandSpec],
  ['generate', async () => (await import('./generate.js')).generateCommandSpec],
  ['merge', async () => (await import('./merge.js')).mergeCommandSpec],
  ['export', async () => (await import('./export.js')).exportCommandSpec],
  ['explain', async () => (await import('./explain.js')).explainCommandSpec],
  ['validate', async () => (await import('./validate.js')).validateCommandSpec],
  ['run', async () => (await import('./run.js')).runCommandSpec],
  ['agent', async () => (await import('./agent.js')).agentCommandSpec],
  ['recording-profile', async () => (await import('./recording-profile.js')).recordingProfileCommandSpec],
  ['recordings', async () => (await import('./recordings.js')).recordingsCommandSpec],
  ['import-audit', async () => (await import('./import-audit.js')).importAuditCommandSpec],
  ['lint', async () => (await import('./lint.js')).lintCommandSpec],
  ['patch', async () => (await import('./patch.js')).patchCommandSpec],
];

/** The program with every command, or only `only` when it names one. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command(TOOL.name)
    .description('Record the syscalls a command or container makes; generate, validate and diff minimal seccomp profiles.')
    .version(TOOL.version)
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = COMMANDS.filter(([name]) => name === only);
  const specs = await Promise.all((named.length ? named : COMMANDS).map(([, load]) => load()));
  for (const spec of specs) program.addCommand(spec());
  for (const c of program.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

async function main(): Promise<void> {
  try {
    await (await buildProgram(process.argv[2])).parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors 2. Commander already printed the message.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    throw err;
  }
}

await main();
