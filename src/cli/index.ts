// callcrm: the command line. Works on the database named by DATABASE_URL directly, through the same domain
// code as the server (no HTTP), so it also works while the server is stopped.
// Exit codes: 0 ok; 1 the operation failed (not found, conflict, an import row failed); 2 usage or configuration.
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { AppError } from '../errors.ts';
import { CliError } from './context.ts';
import { dataCommands } from './data-commands.ts';
import { setupCommands } from './setup-commands.ts';
import { lifecycleCommands } from './lifecycle-commands.ts';
import { peopleCommands } from './people-commands.ts';

export function buildProgram(): Command {
  const program = new Command('callcrm')
    .description('CRM server for call centers: serve the APIs, set up projects, import and export customers')
    .showSuggestionAfterError()
    // Usage errors are thrown to main() below instead of exiting inside commander; subcommands inherit it.
    .exitOverride()
    .version(pkg.version, '-V, --version', 'print the version of callcrm');
  dataCommands(program);
  setupCommands(program);
  markRequired(program);
  lifecycleCommands(program);
  peopleCommands(program);
  return program;
}

/** Help marks every required option, in every command (commander's help does not). */
function markRequired(command: Command): void {
  for (const option of command.options) {
    if (option.mandatory && !option.description.endsWith('(required)')) option.description += ' (required)';
  }
  for (const sub of command.commands) markRequired(sub);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // commander has printed its message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`callcrm: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof AppError) {
      process.stderr.write(`callcrm: ${err.message}\n`);
      return 1;
    }
    // Anything else (the database is unreachable, a disk error) is still one line, without a stack.
    process.stderr.write(`callcrm: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
