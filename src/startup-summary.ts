// What a person starting the server needs to read, beside the JSON log line: where the data is, whether
// the admin API is open, where the console and docs are, which telephony keys are in force. Keys and
// tokens are never printed, only whether they are set. The README's placeholder token is called out:
// a server started with it has a publicly known admin password.
import type { Config } from './config.ts';

/** The .env.example / README placeholder for CRM_ADMIN_TOKEN. */
export const PLACEHOLDER_ADMIN_TOKEN = 'change-me-to-a-long-random-secret';

export function startupSummary(config: Config, address: string): string[] {
  const db = config.databaseUrl.startsWith('sqlite:') ? `SQLite ${config.databaseUrl.slice('sqlite:'.length)}` : 'PostgreSQL';
  const base = `${address}${config.basePath}`;
  const lines = [
    `callcrm listening on ${address} (database: ${db})`,
    `  telephony API: ${config.basePaths.map((p) => `${address}${p}/api/get_data.php`).join(', ')}; keys: ${
      Object.values(config.authkeysImplicit).some(Boolean) ? "the vendor's default keys (loopback only)" : 'CRM_AUTHKEY_* as configured'
    }, plus named keys from the admin API`,
    `  admin API: ${config.adminToken === undefined ? 'closed (set CRM_ADMIN_TOKEN to open it)' : `${base}/admin/v1 (bearer token or a console session)`}`,
    `  console: ${base}/app/ (first admin: callcrm user add --username admin --role admin)`,
    `  API docs: ${base}/docs`,
  ];
  if (config.adminToken === PLACEHOLDER_ADMIN_TOKEN) {
    lines.push(`  WARNING: CRM_ADMIN_TOKEN is the README's placeholder, known to everyone: set a long random secret`);
  }
  return lines;
}
