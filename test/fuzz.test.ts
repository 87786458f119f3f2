// Property-based fuzzing of the three legacy endpoints with random and hostile parameters, bodies and
// content types (see fuzz-requests.ts): never a 5xx, always the envelope with a numeric code, and no data
// changed by any failure. FUZZ_RUNS sets the requests per endpoint (default 800); scripts/fuzz.ts runs
// the same properties over 100,000 requests.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dialects, setup, seedProject, type Harness } from './helpers.ts';
import { describeRequest, requestArb, sendAndCheck, snapshot, type Endpoint } from './fuzz-requests.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 800);

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      // Throttling would turn most requests into code 1 after a few wrong keys: it has its own tests.
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0', LOG_LEVEL: 'silent' });
      await seedProject(h.app);
    });
    after(() => h.close());

    for (const endpoint of ['get_data', 'set_data', 'set_status'] as Endpoint[]) {
      test(`${endpoint}: ${RUNS} hostile requests, never a 5xx, always the envelope, no data changed by a failure`, async () => {
        let current = await snapshot(h.db);
        const codes = new Map<number, number>();
        await fc.assert(
          fc.asyncProperty(requestArb(endpoint), async (req) => {
            const checked = await sendAndCheck(h.app, h.db, req, current);
            current = checked.after;
            if (checked.code !== undefined) codes.set(checked.code, (codes.get(checked.code) ?? 0) + 1);
            assert.equal(checked.problem, undefined, `${checked.problem}\n${describeRequest(req)}`);
          }),
          { numRuns: RUNS },
        );
        // The run reached past authentication and validation: some requests succeeded, some failed.
        assert.ok((codes.get(0) ?? 0) > 0, `no success among ${[...codes]}`);
        assert.ok([...codes.keys()].some((c) => c !== 0), `no failure among ${[...codes]}`);
      });
    }
  });
}
