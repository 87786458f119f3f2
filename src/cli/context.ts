// What every CLI command shares: configuration from the environment (and .env), the database named by
// DATABASE_URL, migrated before use, and how results and failures are printed.
import { loadConfig, ConfigError, type Config } from '../config.ts';
import { openDatabase, type Db, type OpenOptions } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';

/** A failure the user can act on: printed as one line, never a stack trace. exitCode 2 = usage/configuration. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function readConfig(): Config {
  if (typeof process.loadEnvFile === 'function') {
    try {
      process.loadEnvFile('.env');
    } catch {
      // no .env file: the environment alone configures
    }
  }
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`configuration error: ${err.message}`, 2);
    throw err;
  }
}

/**
 * Runs fn on the configured database, brought up to date first: the CLI works on a fresh database and
 * while the server is stopped. Migrating is a no-op when nothing is pending.
 */
export async function withDb<T>(fn: (db: Db, config: Config) => Promise<T>, open: Pick<OpenOptions, 'bulk'> = {}): Promise<T> {
  const config = readConfig();
  const db = openDatabase(config.databaseUrl, { durable: config.durable, poolSize: 2, ...open, pipeline: config.databasePipeline });
  try {
    await migrateToLatest(db.q);
    return await fn(db, config);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** One JSON value per line on stdout: easy to read, and to pipe into jq. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
