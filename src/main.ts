// The server: load config, open the database, migrate, build the app, listen; drain on SIGTERM. The process
// entry is server.ts (this module is also loaded by the CLI's `serve`, which must not start it twice).
// With CRM_WORKERS > 1 (or auto), a primary migrates once and forks that many workers sharing the port
// (node:cluster). Each worker has its own connections: on SQLite, WAL lets them read side by side and the
// busy timeout queues their writers; each worker group-commits its own writes.
import { startupSummary } from './startup-summary.ts';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { openDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { buildApp } from './app.ts';

export function fatal(message: string, code: number): never {
  process.stderr.write(`callcrm: ${message}\n`);
  process.exit(code);
}

function readConfig(): Config {
  try {
    if (typeof process.loadEnvFile === 'function') {
      try {
        process.loadEnvFile('.env');
      } catch {
        // no .env file: the environment alone configures
      }
    }
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fatal(`configuration error: ${err.message}`, 2);
    throw err;
  }
}

async function migrateOnce(config: Config): Promise<void> {
  const db = openDatabase(config.databaseUrl, { durable: config.durable, poolSize: 1, pipeline: config.databasePipeline });
  try {
    await migrateToLatest(db.q);
  } catch (err) {
    await db.close().catch(() => undefined);
    fatal(err instanceof Error ? err.message : String(err), 1);
  }
  await db.close();
}

async function runServer(config: Config, migrate: boolean): Promise<void> {
  const db = openDatabase(config.databaseUrl, {
    durable: config.durable,
    poolSize: config.databasePoolSize,
    preparedStatements: config.databasePreparedStatements,
    pipeline: config.databasePipeline,
    backgroundCheckpoint: true,
    onError: (err) => process.stderr.write(`callcrm: ${err.message}\n`),
  });
  if (migrate) {
    try {
      await migrateToLatest(db.q);
    } catch (err) {
      await db.close().catch(() => undefined);
      fatal(err instanceof Error ? err.message : String(err), 1);
    }
  }
  const app = await buildApp({ config, db });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, draining in-flight requests');
    try {
      // close() stops accepting, waits for in-flight requests, then runs onClose hooks (audit flush).
      await app.close();
      await db.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  // One summary per server: the single process, or the first worker of a cluster.
  if (migrate || cluster.worker?.id === 1) process.stderr.write(`${startupSummary(config, address).join('\n')}\n`);
}

export async function serve(): Promise<void> {
  const config = readConfig();
  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  if (workers <= 1) return runServer(config, true);

  if (cluster.isPrimary) {
    await migrateOnce(config);
    process.stdout.write(`callcrm: starting ${workers} workers on ${config.host}:${config.port}\n`);
    let stopping = false;
    for (let i = 0; i < workers; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      process.stderr.write(`callcrm: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
      cluster.fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGTERM'));
    return;
  }
  return runServer(config, false);
}
