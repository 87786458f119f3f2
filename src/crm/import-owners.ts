// Who holds what, for one import batch: the customers already holding the batch's ids, assign ids,
// phones and unique values (read in bulk, inside the batch's transaction), and the customers the batch
// itself creates. The row loop (import-batch.ts) asks it who a row is and keeps it true as rows create
// and change customers, so two rows of one batch match each other as they would across batches.
import type { Q } from '../db/connect.ts';
import type { AssignRow, CustomerRow } from '../db/schema.ts';
import { compileInList } from '../db/compiled.ts';
import { lockRows } from '../db/dialect.ts';
import { slot } from '../db/slots.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import type { Values } from './customers.ts';
import { uniqueKey, type Field } from './fields.ts';

/** A customer the batch creates, written at the end of the batch in multi-row inserts (the fast path). */
export interface Pending {
  line: number;
  id?: number;
  assignId?: number;
  statusId: number | null;
  data: Values;
}

/** Who holds an id, a phone or a unique value: an existing customer's id, or a customer this batch creates. */
export type Ref = number | Pending;

export interface AssignHolder {
  project_id: number;
  repository_id: number;
  customer: Ref;
}

/** The key of a unique value in the owner map: field id and normalized value. */
export const ownerKey = (field: Field, key: string) => `${field.id}\u0000${key}`;

// The owner reads, compiled once per list length (db/compiled.ts): built with Kysely for every batch they
// cost ~6 % of an import's CPU.
const customersById = compileInList(0, (ids) => (q: Q) => q.selectFrom('customers').select(['id', 'project_id']).where('id', 'in', ids));
const assignsById = compileInList(0, (ids) => (q: Q) => q.selectFrom('assigns').select(['id', 'project_id', 'repository_id', 'customer_id']).where('id', 'in', ids));
// slot 0: the project
const phonesIn = compileInList(1, (phones) => (q: Q) =>
  q.selectFrom('customer_phones').select(['phone', 'customer_id']).where('project_id', '=', slot(0)).where('phone', 'in', phones),
);
// slots 0, 1: the project and the field
const uniquesIn = compileInList(2, (keys) => (q: Q) =>
  q.selectFrom('customer_uniques').select(['value', 'customer_id']).where('project_id', '=', slot(0)).where('field_id', '=', slot(1)).where('value', 'in', keys),
);

/** What a batch row carries that identifies a customer (import-batch.ts's PreparedRow has these). */
export interface RowKeys {
  id?: number;
  assignId?: number;
  phones: string[];
  uniques: string[];
}

export interface OwnerScope {
  projectId: number;
  repositoryId: number;
  update: boolean;
  country: CountryCode;
  phoneFields: Field[];
  uniqueFields: Field[];
}

export class Owners {
  readonly idOwner = new Map<number, Ref>();
  /** ids of the batch that belong to customers of another project */
  readonly otherProject = new Set<number>();
  readonly assignTaken = new Map<number, AssignHolder>();
  readonly phoneOwners = new Map<string, Set<Ref>>();
  readonly uniqueOwners = new Map<string, Ref>();
  /** matched customers' rows (update mode only: locked for the batch) */
  readonly customerRows = new Map<number, CustomerRow>();
  /** matched customers' assigns in the import's repository */
  readonly memberships = new Map<number, AssignRow>();

  private constructor(private readonly scope: OwnerScope) {}

  /** Reads every owner the batch's rows can meet, in a handful of queries. */
  static async read(trx: Q, rows: RowKeys[], scope: OwnerScope): Promise<Owners> {
    const o = new Owners(scope);
    const P = scope.projectId;
    const ids = unique(rows.flatMap((r) => (r.id === undefined ? [] : [r.id])));
    const assignIds = unique(rows.flatMap((r) => (r.assignId === undefined ? [] : [r.assignId])));
    const phones = unique(rows.flatMap((r) => r.phones));

    if (ids.length > 0) {
      for (const c of await customersById(trx, [], ids)) {
        if (c.project_id === P) o.idOwner.set(c.id, c.id);
        else o.otherProject.add(c.id);
      }
    }
    if (assignIds.length > 0) {
      const found = await assignsById(trx, [], assignIds);
      for (const a of found) o.assignTaken.set(a.id, { project_id: a.project_id, repository_id: a.repository_id, customer: a.customer_id });
    }
    if (phones.length > 0) {
      const found = await phonesIn(trx, [P], phones);
      for (const p of found) addTo(o.phoneOwners, p.phone, p.customer_id);
    }
    for (const field of scope.uniqueFields) {
      const prefix = `${field.id}\u0000`;
      const keys = unique(rows.flatMap((r) => r.uniques.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length))));
      if (keys.length === 0) continue;
      const found = await uniquesIn(trx, [P, field.id], keys);
      for (const u of found) o.uniqueOwners.set(prefix + u.value, u.customer_id);
    }

    // Matched existing customers: their rows (update mode) and their assigns in this repository.
    const matched = unique([...o.idOwner.keys(), ...[...o.phoneOwners.values()].flatMap((s) => [...s] as number[]), ...(o.uniqueOwners.values() as Iterable<number>)]);
    if (matched.length > 0) {
      if (scope.update) {
        for (const c of await lockRows(trx, trx.selectFrom('customers').selectAll().where('id', 'in', matched)).execute()) o.customerRows.set(c.id, c);
      }
      const found = await trx.selectFrom('assigns').selectAll().where('repository_id', '=', scope.repositoryId).where('customer_id', 'in', matched).execute();
      for (const a of found) o.memberships.set(a.customer_id, a);
    }
    return o;
  }

  /** The customers the row's unique values and phones point to (its id's owner is idOwner's). */
  holders(row: RowKeys): { byUnique: Ref[]; byPhone: Ref[] } {
    return {
      byUnique: unique(row.uniques.flatMap((k) => (this.uniqueOwners.has(k) ? [this.uniqueOwners.get(k)!] : []))),
      byPhone: unique(row.phones.flatMap((p) => [...(this.phoneOwners.get(p) ?? [])])),
    };
  }

  /** Keeps the owner maps true as rows of this batch create and change customers. */
  reindex(who: Ref, before: Values, after: Values): void {
    const { country } = this.scope;
    for (const f of this.scope.phoneFields) {
      const old = before[f.display_name];
      if (old !== undefined) this.phoneOwners.get(normalizePhone(old, country))?.delete(who);
    }
    for (const f of this.scope.phoneFields) {
      const now = after[f.display_name];
      if (now !== undefined) addTo(this.phoneOwners, normalizePhone(now, country), who);
    }
    for (const f of this.scope.uniqueFields) {
      const old = before[f.display_name];
      if (old !== undefined) {
        const k = ownerKey(f, uniqueKey(f, old, country));
        if (this.uniqueOwners.get(k) === who) this.uniqueOwners.delete(k);
      }
      const now = after[f.display_name];
      if (now !== undefined) this.uniqueOwners.set(ownerKey(f, uniqueKey(f, now, country)), who);
    }
  }

  /** Records that a row put a customer in the repository as this assign. */
  joined(customer: Ref, assignId: number): void {
    this.assignTaken.set(assignId, { project_id: this.scope.projectId, repository_id: this.scope.repositoryId, customer });
  }
}

/** How an error message names a customer: by id, or by the line that creates it. */
export const nameOf = (who: Ref) => (typeof who === 'number' ? `customer ${who}` : `the customer of line ${who.line}`);
export const takenBy = (a: AssignHolder) => `${nameOf(a.customer)}, repository ${a.repository_id}`;

export function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
