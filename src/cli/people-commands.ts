// People and keys from the command line: the first admin is created here (the admin API needs a
// signed-in admin or the token to create users). Passwords are prompted without echo, or read from
// stdin with --password-stdin (scripts); never taken as an argument, which would land in shell history
// and in every `ps` listing.
import { Command, Option } from 'commander';
import { ENDPOINT_NAMES, createKey, listKeys, revokeKey, getKeyByName, toKey } from '../access/keys.ts';
import { PASSWORD_MAX, PASSWORD_MIN, hashPassword } from '../access/passwords.ts';
import { ROLES, type Role } from '../access/roles.ts';
import { createUser, findUserByName, listUsers, patchUser, toUser } from '../access/users.ts';
import type { Endpoint } from '../config.ts';
import { CliError, printJson, withDb } from './context.ts';
import { idArg } from './args.ts';

const PAGE = 1000;

/** "1,2,3" → [1, 2, 3] (a usage error otherwise). */
function idList(value: string): number[] {
  return value.split(',').map((v) => idArg(v));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // One trailing newline is the end of the line, not part of the password (echo pw | callcrm …).
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 1));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  let password: string;
  if (fromStdin) password = await readStdin();
  else {
    if (!process.stdin.isTTY) throw new CliError('no terminal to ask the password on: pipe it in with --password-stdin', 2);
    password = await promptHidden('Password: ');
    if ((await promptHidden('Repeat password: ')) !== password) throw new CliError('the passwords differ', 2);
  }
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) throw new CliError(`a password has ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, 2);
  return password;
}

export function peopleCommands(program: Command): void {
  const user = program.command('user').description('console users: add, list, change a password');
  user
    .command('add')
    .description('add a console user (the first admin comes from here)')
    .requiredOption('--username <name>', 'sign-in name (case-insensitive)')
    .addOption(new Option('--role <role>', 'what the user may do').choices(ROLES).makeOptionMandatory())
    .option('--password-stdin', 'read the password from stdin instead of prompting')
    .option('--display-name <name>', 'name shown in the console and in history')
    .option('--worker-id <id>', "the agent's worker (its calls and changes are recorded as this worker)", idArg)
    .option('--projects <ids>', 'comma-separated project ids the user is limited to (default: every project)', idList)
    .action((o: { username: string; role: Role; passwordStdin?: boolean; displayName?: string; workerId?: number; projects?: number[] }) =>
      withDb(async (db) => {
        if (!/^[^\s\x00-\x1f]{1,64}$/.test(o.username)) throw new CliError('--username: 1 to 64 characters, no spaces', 2);
        const password_hash = await hashPassword(await readPassword(o.passwordStdin));
        const created = await db.write((trx) =>
          createUser(trx, { username: o.username, password_hash, role: o.role, display_name: o.displayName ?? null, worker_id: o.workerId ?? null, project_ids: o.projects ?? null }),
        );
        printJson(created);
      }),
    );
  user
    .command('list')
    .description('list console users (never their passwords)')
    .action(() =>
      withDb(async (db) => {
        let after: number | undefined;
        for (;;) {
          const rows = await listUsers(db.q, { limit: PAGE, after });
          for (const r of rows) printJson(toUser(r));
          if (rows.length < PAGE) return;
          after = rows[rows.length - 1]!.id;
        }
      }),
    );
  user
    .command('passwd')
    .description("set a user's password (ends the user's sessions)")
    .argument('<username>')
    .option('--password-stdin', 'read the password from stdin instead of prompting')
    .action((username: string, o: { passwordStdin?: boolean }) =>
      withDb(async (db) => {
        const row = await findUserByName(db.q, username);
        if (!row) throw new CliError(`user ${username} does not exist`, 1);
        const password_hash = await hashPassword(await readPassword(o.passwordStdin));
        printJson(await db.write((trx) => patchUser(trx, row.id, { password_hash })));
      }),
    );

  const key = program.command('key').description('named telephony keys: add, list, revoke');
  key
    .command('add')
    .description('add a named key; its secret is printed this once')
    .requiredOption('--name <name>', 'shown in the audit log')
    .requiredOption('--endpoints <list>', `comma-separated: ${ENDPOINT_NAMES.join(',')}`)
    .option('--projects <ids>', 'comma-separated project ids the key is limited to (default: every project)', idList)
    .action((o: { name: string; endpoints: string; projects?: number[] }) =>
      withDb(async (db) => {
        const endpoints = [...new Set(o.endpoints.split(',').map((e) => e.trim()).filter(Boolean))];
        const bad = endpoints.find((e) => !(ENDPOINT_NAMES as string[]).includes(e));
        if (bad !== undefined || endpoints.length === 0) throw new CliError(`--endpoints: ${bad ?? '(none)'} is not one of ${ENDPOINT_NAMES.join(', ')}`, 2);
        printJson(await db.write((trx) => createKey(trx, { name: o.name.trim(), endpoints: endpoints as Endpoint[], project_ids: o.projects ?? null })));
      }),
    );
  key
    .command('list')
    .description('list live named keys (never their secrets)')
    .action(() => withDb(async (db) => {
      for (const r of await listKeys(db.q, { limit: PAGE })) printJson(toKey(r));
    }));
  key
    .command('revoke')
    .description('revoke a named key (servers stop taking it within a second)')
    .argument('<name>')
    .action((name: string) =>
      withDb(async (db) => {
        const row = await getKeyByName(db.q, name);
        if (!row) throw new CliError(`no live key named ${name}`, 1);
        await db.write((trx) => revokeKey(trx, row.id));
        printJson({ revoked: name });
      }),
    );
}
