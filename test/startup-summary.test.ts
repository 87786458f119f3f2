// The human summary printed at start-up (beside the JSON log): database, admin API open or closed, console
// and docs addresses, keys mode; never a key or token; a warning for the README's placeholder token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { PLACEHOLDER_ADMIN_TOKEN, startupSummary } from '../src/startup-summary.ts';

test('the summary names the database, the admin API state, the console and docs, and never a secret', () => {
  const closed = startupSummary(loadConfig({ DATABASE_URL: 'sqlite:./data/x.sqlite' }), 'http://127.0.0.1:8080').join('\n');
  assert.match(closed, /database: SQLite \.\/data\/x\.sqlite/);
  assert.match(closed, /admin API: closed \(set CRM_ADMIN_TOKEN/);
  assert.match(closed, /console: http:\/\/127\.0\.0\.1:8080\/app\//);
  assert.match(closed, /API docs: http:\/\/127\.0\.0\.1:8080\/docs/);
  assert.match(closed, /vendor's default keys \(loopback only\)/);
  assert.ok(!closed.includes('Mindc_2023'), 'no key printed');

  const token = 'a-very-secret-admin-token-1234';
  const open = startupSummary(loadConfig({ DATABASE_URL: 'postgres://u:pw@db/crm', CRM_ADMIN_TOKEN: token, CRM_BASE_PATH: ',/dev-6', CRM_AUTHKEY_GET_DATA: 'k1-secret-key', CRM_AUTHKEY_SET_DATA: 'k2-secret-key', CRM_AUTHKEY_SET_STATUS: 'k3-secret-key' }), 'http://127.0.0.1:8080').join('\n');
  assert.match(open, /database: PostgreSQL/);
  assert.match(open, /admin API: http:\/\/127\.0\.0\.1:8080\/admin\/v1/);
  assert.match(open, /\/dev-6\/api\/get_data\.php/);
  assert.match(open, /CRM_AUTHKEY_\* as configured/);
  for (const secret of [token, 'pw', 'k1-secret-key']) assert.ok(!open.includes(secret), `${secret} not printed`);
  assert.ok(!open.includes('WARNING'));

  const placeholder = startupSummary(loadConfig({ DATABASE_URL: 'sqlite:./x.sqlite', CRM_ADMIN_TOKEN: PLACEHOLDER_ADMIN_TOKEN }), 'http://127.0.0.1:8080').join('\n');
  assert.match(placeholder, /WARNING: CRM_ADMIN_TOKEN is the README's placeholder/);
  assert.ok(!placeholder.includes(PLACEHOLDER_ADMIN_TOKEN));
});
