// Admin API, customers: read with assigns, PATCH (all-or-nothing, history, unique values), list and
// search (by phone through the index, by text), cursor walks.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, setup, seedProject, admin, adminHeaders, type Harness } from './helpers.ts';
import { listCustomers } from '../src/crm/search.ts';

interface Customer {
  id: number;
  project_id: number;
  fields: Record<string, string>;
}

async function historyOf(h: Harness, assignId: number) {
  return (await admin(h.app, 'GET', `/assigns/${assignId}/history?limit=1000`)).items as Record<string, unknown>[];
}

/** Every page of a list, following next_cursor; the ids in the order seen. */
async function walk(h: Harness, path: string, limit: number): Promise<{ ids: number[]; pages: number[] }> {
  const ids: number[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const url: string = `${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page: { items: { id: number }[]; next_cursor: string | null } = await admin(h.app, 'GET', url);
    pages.push(page.items.length);
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  return { ids, pages };
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      // A second project whose customers must never show up in project 10's answers.
      await admin(h.app, 'POST', '/projects', { id: 20, name: 'Other' });
      await admin(h.app, 'POST', '/projects/20/fields', { display_name: 'mobile', type: 'phone' });
      await admin(h.app, 'POST', '/projects/20/fields', { display_name: 'city' });
      await admin(h.app, 'POST', '/projects/20/customers', { id: 9001, fields: { mobile: '050-000-0000', city: 'Haifa' } });
    });
    after(() => h.close());

    test('GET /customers/:id answers the customer with all its assigns', async () => {
      const c = await admin(h.app, 'GET', '/customers/123');
      assert.equal(c.id, 123);
      assert.equal(c.project_id, 10);
      assert.deepEqual(c.fields, { first_name: 'John', last_name: 'Doe', mobile: '050-000-0000', email: 'john@mail.com' });
      assert.deepEqual(c.assigns.map((a: { id: number; repository_id: number }) => [a.id, a.repository_id]).sort((a: number[], b: number[]) => a[0]! - b[0]!), [[555, 8], [2190811, 7]]);
      assert.equal(typeof c.created_at, 'string');
    });

    test('GET /customers/:id of an unknown id is a 404, a non-numeric id a 400', async () => {
      const missing = await admin(h.app, 'GET', '/customers/987654', undefined, 404);
      assert.equal(missing.error.code, 'not_found');
      assert.match(missing.error.message, /customer 987654/);
      const bad = await admin(h.app, 'GET', '/customers/abc', undefined, 400);
      assert.equal(bad.error.code, 'invalid_input');
    });

    test('PATCH updates fields, answers the customer and writes history with source admin', async () => {
      await admin(h.app, 'POST', '/projects/10/customers', { id: 200, fields: { first_name: 'Ann', mobile: '052-123-4567' } });
      await admin(h.app, 'POST', '/repositories/7/assigns', { id: 2000, customer_id: 200 });
      const c = await admin(h.app, 'PATCH', '/customers/200', { fields: { city: 'Haifa', age: 41, first_name: 'Anna', plan: 'gold' } });
      assert.deepEqual(c.fields, { first_name: 'Anna', mobile: '052-123-4567', city: 'Haifa', age: '41', plan: 'gold' });
      assert.deepEqual((await admin(h.app, 'GET', '/customers/200')).fields, c.fields);

      const history = await historyOf(h, 2000);
      const fields = history.filter((i) => i.kind === 'field');
      assert.equal(fields.length, 4);
      for (const item of fields) {
        assert.equal(item.source, 'admin');
        assert.equal(item.worker_id, null);
        assert.deepEqual(Object.keys(item).sort(), ['at', 'call_id', 'field', 'kind', 'new_value', 'old_value', 'source', 'worker_id']);
      }
      const first = fields.find((i) => i.field === 'first_name')!;
      assert.equal(first.old_value, 'Ann');
      assert.equal(first.new_value, 'Anna');
      assert.equal(fields.find((i) => i.field === 'city')!.old_value, null);
    });

    test('PATCH with a value that does not change writes no history', async () => {
      const before = (await historyOf(h, 2000)).length;
      await admin(h.app, 'PATCH', '/customers/200', { fields: { city: 'Haifa' } });
      assert.equal((await historyOf(h, 2000)).length, before);
    });

    test('PATCH with null or an empty value clears the field and records it', async () => {
      const c = await admin(h.app, 'PATCH', '/customers/200', { fields: { plan: null, age: '' } });
      assert.equal(c.fields.plan, undefined);
      assert.equal(c.fields.age, undefined);
      const cleared = (await historyOf(h, 2000)).filter((i) => i.kind === 'field' && (i.field === 'plan' || i.field === 'age'));
      assert.ok(cleared.some((i) => i.field === 'plan' && i.old_value === 'gold' && i.new_value === null));
    });

    test('PATCH with one invalid field is a 400 naming each bad field, and nothing changes', async () => {
      const before = await admin(h.app, 'GET', '/customers/200');
      const historyBefore = await historyOf(h, 2000);
      const res = await admin(h.app, 'PATCH', '/customers/200', { fields: { city: 'Akko', age: 'forty', birthday: '2020-02-30', plan: 'platinum', nope: 'x', email: 'not-an-email' } }, 400);
      assert.equal(res.error.code, 'invalid_input');
      assert.deepEqual(Object.keys(res.error.details).sort(), ['age', 'birthday', 'email', 'nope', 'plan']);
      assert.equal(res.error.details.nope, 'unknown field');
      assert.deepEqual(await admin(h.app, 'GET', '/customers/200'), before);
      assert.deepEqual(await historyOf(h, 2000), historyBefore);
    });

    test('PATCH with a unique value another customer holds is a 409 and changes nothing', async () => {
      const before = await admin(h.app, 'GET', '/customers/200');
      const historyBefore = await historyOf(h, 2000);
      // Emails are unique case-insensitively: John holds john@mail.com.
      const res = await admin(h.app, 'PATCH', '/customers/200', { fields: { city: 'Eilat', email: 'JOHN@mail.com' } }, 409);
      assert.equal(res.error.code, 'conflict');
      assert.match(res.error.message, /email/);
      assert.deepEqual(await admin(h.app, 'GET', '/customers/200'), before);
      assert.deepEqual(await historyOf(h, 2000), historyBefore);
      // The customer's own value again is not a conflict.
      await admin(h.app, 'PATCH', '/customers/123', { fields: { email: 'john@mail.com' } });
    });

    test('PATCH refuses an unknown customer (404), a body without fields and unknown properties (400)', async () => {
      assert.equal((await admin(h.app, 'PATCH', '/customers/987654', { fields: { city: 'x' } }, 404)).error.code, 'not_found');
      assert.equal((await admin(h.app, 'PATCH', '/customers/200', {}, 400)).error.code, 'invalid_input');
      const extra = await admin(h.app, 'PATCH', '/customers/200', { fields: {}, id: 5 }, 400);
      assert.ok('id' in extra.error.details);
    });

    test('PATCH of a phone field moves the phone index: the new number finds the customer, the old does not', async () => {
      await admin(h.app, 'PATCH', '/customers/200', { fields: { mobile: '054-999-8888' } });
      const now = await admin(h.app, 'GET', '/projects/10/customers?phone=0549998888');
      assert.deepEqual(now.items.map((c: Customer) => c.id), [200]);
      const old = await admin(h.app, 'GET', '/projects/10/customers?phone=0521234567');
      assert.deepEqual(old.items, []);
    });

    test('search by phone finds the customer in any spelling, in any phone field, only in this project', async () => {
      await admin(h.app, 'POST', '/projects/10/customers', { id: 300, fields: { first_name: 'Dov', home: '03-555-1234', mobile: '+972 52-111-2222' } });
      for (const spelling of ['0521112222', '052-111-2222', '+972 52-111-2222', '972521112222', '9720521112222', '+972 (0)52 111 2222']) {
        const res = await admin(h.app, 'GET', `/projects/10/customers?phone=${encodeURIComponent(spelling)}`);
        assert.deepEqual(res.items.map((c: Customer) => c.id), [300], spelling);
      }
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?phone=035551234')).items.map((c: Customer) => c.id), [300]);
      // 050-000-0000 is John's in project 10 and customer 9001's in project 20.
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?phone=%2B972500000000')).items.map((c: Customer) => c.id), [123]);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/20/customers?phone=0500000000')).items.map((c: Customer) => c.id), [9001]);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?phone=0501231231')).items, []);
    });

    test('search by a phone with no digit is a 400', async () => {
      const res = await admin(h.app, 'GET', '/projects/10/customers?phone=abc', undefined, 400);
      assert.ok('phone' in res.error.details);
    });

    test('search by text matches any field value case-insensitively, and only values', async () => {
      await admin(h.app, 'POST', '/projects/10/customers', { id: 301, fields: { first_name: 'Miriam', city: 'תל אביב' } });
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?q=MIRI')).items.map((c: Customer) => c.id), [301]);
      assert.deepEqual((await admin(h.app, 'GET', `/projects/10/customers?q=${encodeURIComponent('אביב')}`)).items.map((c: Customer) => c.id), [301]);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?q=first_name')).items, []);
      // Both filters together: the phone narrows, the text filters.
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?phone=0500000000&q=doe')).items.map((c: Customer) => c.id), [123]);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?phone=0500000000&q=miriam')).items, []);
      await admin(h.app, 'GET', '/projects/10/customers?q=%20%20', undefined, 400);
    });

    test('listing customers of an unknown project is a 404; bad limit or cursor is a 400', async () => {
      assert.equal((await admin(h.app, 'GET', '/projects/999/customers', undefined, 404)).error.code, 'not_found');
      const over = await admin(h.app, 'GET', '/projects/10/customers?limit=1001', undefined, 400);
      assert.ok('limit' in over.error.details);
      await admin(h.app, 'GET', '/projects/10/customers?limit=0', undefined, 400);
      const bad = await admin(h.app, 'GET', '/projects/10/customers?cursor=not-a-cursor', undefined, 400);
      assert.ok('cursor' in bad.error.details);
    });

    test('creating a customer validates all-or-nothing: 400 naming the field, 404 for an unknown project, 409 for a taken id', async () => {
      const res = await admin(h.app, 'POST', '/projects/10/customers', { fields: { first_name: 'X', age: 'x' } }, 400);
      assert.deepEqual(Object.keys(res.error.details), ['age']);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/customers?q=x&limit=1000')).items.filter((c: Customer) => c.fields.first_name === 'X'), []);
      await admin(h.app, 'POST', '/projects/999/customers', { fields: {} }, 404);
      await admin(h.app, 'POST', '/projects/10/customers', { id: 123, fields: {} }, 409);
      await admin(h.app, 'POST', '/projects/10/customers', { fields: { email: 'john@mail.com' } }, 409);
    });

    describe('cursor walks', () => {
      let ids: number[];
      before(async () => {
        await admin(h.app, 'POST', '/projects', { id: 30, name: 'Walk' });
        await admin(h.app, 'POST', '/projects/30/fields', { display_name: 'city' });
        ids = [];
        for (let i = 0; i < 120; i++) {
          const c = await admin(h.app, 'POST', '/projects/30/customers', { fields: { city: i % 3 === 0 ? 'Eilat' : 'Ashdod' } });
          ids.push(c.id);
        }
      });

      test('walking 120 customers with limit 50 lists every one exactly once, in pages of 50, 50, 20', async () => {
        const { ids: seen, pages } = await walk(h, '/projects/30/customers', 50);
        assert.deepEqual(seen, ids);
        assert.deepEqual(pages, [50, 50, 20]);
      });

      test('walking a text search lists every match exactly once', async () => {
        const { ids: seen } = await walk(h, '/projects/30/customers?q=eilat', 15);
        assert.deepEqual(seen, ids.filter((_, i) => i % 3 === 0));
      });

      test('walking while customers are being added lists every earlier customer exactly once', async () => {
        const seen: number[] = [];
        let cursor: string | null = null;
        let added = 0;
        do {
          const page: { items: Customer[]; next_cursor: string | null } = await admin(h.app, 'GET', `/projects/30/customers?limit=40${cursor ? `&cursor=${cursor}` : ''}`);
          seen.push(...page.items.map((c) => c.id));
          cursor = page.next_cursor;
          if (added++ < 3) await admin(h.app, 'POST', '/projects/30/customers', { fields: { city: 'New' } });
        } while (cursor !== null);
        assert.equal(new Set(seen).size, seen.length, 'no customer twice');
        for (const id of ids) assert.ok(seen.includes(id), `customer ${id} listed`);
      });

      test('a text search that stops at its scan limit answers a short page whose cursor continues the scan', async () => {
        const matches = ids.filter((_, i) => i % 3 === 0);
        const first = await listCustomers(h.db.q, 30, { text: 'EILAT' }, { limit: 50 }, 30);
        assert.deepEqual(first.rows.map((r) => r.id), matches.slice(0, 10));
        assert.equal(first.next, ids[29]);
        const all: number[] = [];
        let after: number | undefined;
        for (;;) {
          const page = await listCustomers(h.db.q, 30, { text: 'eilat' }, { limit: 50, after }, 30);
          all.push(...page.rows.map((r) => r.id));
          if (page.next === null) break;
          after = page.next;
        }
        assert.deepEqual(all.filter((id) => ids.includes(id)), matches);
      });
    });

    test('a PATCH body over the configured limit is a 413', async () => {
      const small = await setup(dialect, { CRM_BODY_LIMIT: '1024' });
      try {
        await admin(small.app, 'POST', '/projects', { id: 1, name: 'P' });
        await admin(small.app, 'POST', '/projects/1/fields', { display_name: 'notes_text' });
        const c = await admin(small.app, 'POST', '/projects/1/customers', { fields: { notes_text: 'a' } });
        const res = await small.app.inject({ method: 'PATCH', url: `/admin/v1/customers/${c.id}`, headers: adminHeaders, payload: { fields: { notes_text: 'x'.repeat(4000) } } });
        assert.equal(res.statusCode, 413);
        assert.equal(res.json().error.code, 'body_too_large');
        assert.equal((await admin(small.app, 'GET', `/customers/${c.id}`)).fields.notes_text, 'a');
      } finally {
        await small.close();
      }
    });
  });
}
