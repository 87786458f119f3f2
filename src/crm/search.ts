// Listing and finding a project's customers for operators (admin API, CLI).
//
// By phone: through the phone index (customer_phones), never a scan — the same lookup get_data uses.
// By text (`q`): a case-insensitive substring of any field value. This one SCANS the project's
// customers in id order, in batches, and is meant for operators looking someone up, not for the
// telephony hot path. Each request reads at most MAX_SCAN customers; when it stops there the page may
// hold fewer than `limit` items and its cursor continues the scan where it stopped.
import type { Q } from '../db/connect.ts';
import type { CustomerRow } from '../db/schema.ts';
import { parseData } from './customers.ts';

export interface CustomerFilter {
  /** a normalized phone (normalizePhone) */
  phone?: string;
  text?: string;
}

/** Most customers one text-search request reads before it answers. */
export const MAX_SCAN = 10_000;
const BATCH = 500;

export interface CustomerPage {
  rows: CustomerRow[];
  /** the id to continue after, or null at the end */
  next: number | null;
}

export async function listCustomers(q: Q, projectId: number, f: CustomerFilter, page: { limit: number; after?: number }, maxScan = MAX_SCAN): Promise<CustomerPage> {
  const batch = (after: number | undefined, limit: number) => {
    let query = q.selectFrom('customers').selectAll().where('project_id', '=', projectId);
    if (f.phone !== undefined) {
      query = query.where('id', 'in', q.selectFrom('customer_phones').select('customer_id').where('project_id', '=', projectId).where('phone', '=', f.phone));
    }
    if (after !== undefined) query = query.where('id', '>', after);
    return query.orderBy('id').limit(limit).execute();
  };

  if (f.text === undefined) {
    const rows = await batch(page.after, page.limit);
    return { rows, next: rows.length === page.limit ? rows[rows.length - 1]!.id : null };
  }

  const needle = f.text.trim().toLowerCase();
  const rows: CustomerRow[] = [];
  let after = page.after;
  let scanned = 0;
  for (;;) {
    const size = Math.min(BATCH, maxScan - scanned);
    const chunk = await batch(after, size);
    for (const row of chunk) {
      after = row.id;
      if (Object.values(parseData(row.data)).some((v) => String(v).toLowerCase().includes(needle))) {
        rows.push(row);
        if (rows.length === page.limit) return { rows, next: row.id };
      }
    }
    scanned += chunk.length;
    if (chunk.length < size) return { rows, next: null };
    if (scanned >= maxScan) return { rows, next: after ?? null };
  }
}
