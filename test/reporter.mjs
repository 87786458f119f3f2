// A reporter for node's test runner, used beside `spec` (package.json "test"): counts the tests that ran
// under each database and prints one line per database at the end, so a run (and CI) shows that the
// PostgreSQL half really ran. A test belongs to a database when one of its enclosing suites is named
// exactly 'sqlite' or 'postgres' (test/helpers.ts: `for (const dialect of dialects()) describe(dialect, …)`),
// starts with it and a separator ('postgres: flushing', 'sqlite, CRM_CORS_ORIGINS set') or ends with it in
// parentheses ('get_data.php (postgres)'); the nearest such suite decides.
const DATABASES = ['sqlite', 'postgres'];
const SUITE = /^(sqlite|postgres)(?:$|[:,])|\((sqlite|postgres)\)$/;
const databaseOf = (suiteName) => {
  const m = SUITE.exec(suiteName);
  return m ? (m[1] ?? m[2]) : undefined;
};

export default async function* perDatabase(source) {
  const counts = Object.fromEntries(DATABASES.map((d) => [d, { passed: 0, failed: 0, skipped: 0 }]));
  // Suite names from the outermost to the current test, per file: files run in parallel child processes,
  // and each file's events arrive in declaration order (test:start before the test's own children).
  const stacks = new Map();

  for await (const { type, data } of source) {
    if (type !== 'test:start' && type !== 'test:pass' && type !== 'test:fail') continue;
    const stack = stacks.get(data.file) ?? [];
    stacks.set(data.file, stack);
    if (type === 'test:start') {
      stack.length = data.nesting;
      stack.push(data.name);
      continue;
    }
    if (data.details?.type === 'suite') continue;
    const database = stack.slice(0, data.nesting).map(databaseOf).findLast(Boolean);
    if (!database) continue;
    const c = counts[database];
    if (type === 'test:fail') c.failed++;
    else if (data.skip || data.todo) c.skipped++;
    else c.passed++;
  }

  const line = (d) => {
    const c = counts[d];
    return `${d}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}\n`;
  };
  yield '\n';
  yield line('sqlite');
  if (process.env.TEST_DATABASE_URL) {
    yield line('postgres');
    const pg = counts.postgres;
    if (pg.passed + pg.failed === 0) yield 'postgres: no test ran although TEST_DATABASE_URL is set\n';
  } else {
    yield 'postgres: skipped, TEST_DATABASE_URL is not set (.ci/run sets it to a fresh database)\n';
  }
}
