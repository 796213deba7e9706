#!/usr/bin/env node
// Entry point: one subcommand per file in this folder.
import { Command, CommanderError } from 'commander';
import { TOOL } from '../version.js';
import { agentCommandSpec } from './agent.js';
import { recordingProfileCommandSpec } from './recording-profile.js';
import { recordingsCommandSpec } from './recordings.js';
import { doctorCommandSpec } from './doctor.js';
import { diffCommandSpec } from './diff.js';
import { explainCommandSpec } from './explain.js';
import { exportCommandSpec } from './export.js';
import { generateCommandSpec } from './generate.js';
import { importAuditCommandSpec } from './import-audit.js';
import { lintCommandSpec } from './lint.js';
import { mergeCommandSpec } from './merge.js';
import { patchCommandSpec } from './patch.js';
import { recordCommandSpec } from './record.js';
import { runCommandSpec } from './run.js';
import { validateCommandSpec } from './validate.js';

export function buildProgram(): Command {
  const program = new Command(TOOL.name)
    .description('Record the syscalls a command or container makes; generate, validate and diff minimal seccomp profiles.')
    .version(TOOL.version)
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(recordCommandSpec());
  program.addCommand(doctorCommandSpec());
  program.addCommand(diffCommandSpec());
  program.addCommand(generateCommandSpec());
  program.addCommand(mergeCommandSpec());
  program.addCommand(exportCommandSpec());
  program.addCommand(explainCommandSpec());
  program.addCommand(validateCommandSpec());
  program.addCommand(runCommandSpec());
  program.addCommand(agentCommandSpec());
  program.addCommand(recordingProfileCommandSpec());
  program.addCommand(recordingsCommandSpec());
  program.addCommand(importAuditCommandSpec());
  program.addCommand(lintCommandSpec());
  program.addCommand(patchCommandSpec());
  for (const c of program.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
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
