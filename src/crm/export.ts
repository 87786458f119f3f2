// Streamed CSV export of a repository: header `id,repository_assign_id,status_id,` then every field's
// display_name in field order; one row per assign, by assign id. Read in keyset pages, so memory stays
// flat whatever the repository's size. The file is the import format: it imports back unchanged.
import { stringify } from 'csv-stringify/sync';
import type { Q } from '../db/connect.ts';
import { parseData } from './customers.ts';
import { listFields } from './fields.ts';
import { ID_COLUMNS, checkImportTarget } from './import.ts';

const PAGE = 1000;

/**
 * The CSV text, chunk by chunk (the header, then one chunk per page). Checks the target first (404/422),
 * so a caller that awaits the first chunk learns of a bad request before it starts answering.
 */
export async function* exportCsv(q: Q, projectId: number, repositoryId: number, pageSize = PAGE): AsyncGenerator<string> {
  await checkImportTarget(q, projectId, repositoryId);
  const names = (await listFields(q, projectId)).map((f) => f.display_name);
  yield stringify([[...ID_COLUMNS, ...names]]);
  let after = 0;
  for (;;) {
    const page = await q
      .selectFrom('assigns as a')
      .innerJoin('customers as c', 'c.id', 'a.customer_id')
      .select(['a.id', 'a.status_id', 'a.customer_id', 'c.data'])
      .where('a.repository_id', '=', repositoryId)
      .where('a.id', '>', after)
      .orderBy('a.id')
      .limit(pageSize)
      .execute();
    if (page.length === 0) return;
    const records = page.map((r) => {
      const data = parseData(r.data);
      return [String(r.customer_id), String(r.id), r.status_id === null ? '' : String(r.status_id), ...names.map((n) => data[n] ?? '')];
    });
    yield stringify(records);
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
  }
}
