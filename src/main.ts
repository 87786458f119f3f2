// The process: load config, open the database, migrate, build the app, listen; drain on SIGTERM.
import { loadConfig, ConfigError } from './config.ts';
import { openDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { buildApp } from './app.ts';

export async function serve(): Promise<void> {
  let config;
  try {
    if (typeof process.loadEnvFile === 'function') {
      try {
        process.loadEnvFile('.env');
      } catch {
        // no .env file: the environment alone configures
      }
    }
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`callcrm: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const db = openDatabase(config.databaseUrl, { durable: config.durable, poolSize: config.databasePoolSize });
  try {
    await migrateToLatest(db.q);
  } catch (err) {
    process.stderr.write(`callcrm: ${err instanceof Error ? err.message : String(err)}\n`);
    await db.close().catch(() => undefined);
    process.exit(1);
  }
  const app = await buildApp({ config, db });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, draining in-flight requests');
    try {
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

  await app.listen({ port: config.port, host: config.host });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  serve().catch((err) => {
    process.stderr.write(`callcrm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
