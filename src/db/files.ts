// The SQLite files hold personal data (operations.md "Files on disk"): the directory is created 0700 and
// the database file 0600 before SQLite opens it. SQLite creates its -wal and -shm files with the mode of
// the database file, so they are 0600 too. Existing files are never re-moded behind the operator's back
// (a deployment may share them with a backup group on purpose); start-up warns instead.
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates the database's directory (0700) and an empty database file (0600) where they do not exist. */
export function prepareSqliteFiles(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  // 'a' creates without truncating; the mode applies only to a file this call creates.
  if (!existsSync(path)) closeSync(openSync(path, 'a', FILE_MODE));
}

/**
 * One line naming every SQLite database file (database, -wal, -shm) that users other than the owner may
 * read, with its mode and the fix; none when all are private. PostgreSQL and :memory: have no files here.
 */
export function databaseFileWarnings(databaseUrl: string): string[] {
  if (!databaseUrl.startsWith('sqlite:')) return [];
  const path = databaseUrl.slice('sqlite:'.length);
  if (path === ':memory:' || path === '') return [];
  const open: string[] = [];
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & 0o044) !== 0) open.push(`${file} (mode ${mode.toString(8).padStart(4, '0')})`);
  }
  if (open.length === 0) return [];
  return [`database files readable by other users: ${open.join(', ')}; they hold personal data: chmod 600 ${path}*`];
}
