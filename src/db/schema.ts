// The typed map of the database: one interface per table, row names only.
// Wire objects (what the APIs answer) are built from these in one place per surface.
// Times are integer milliseconds since the epoch in both dialects (no dialect date types to reconcile).
import type { Generated, Insertable, Selectable } from 'kysely';

export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

/** groups, sites: named parts of a project. */
export interface NamedPartTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  created_at: number;
}

export interface WorkersTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  group_id: number | null;
  site_id: number | null;
  created_at: number;
}

export interface RepositoriesTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  group_id: number | null;
  site_id: number | null;
  created_at: number;
}

export interface DidsTable {
  id: Generated<number>;
  project_id: number;
  /** as registered */
  did: string;
  /** normalized like a phone number, the lookup key */
  did_norm: string;
  repository_id: number | null;
  created_at: number;
}

export type FieldType = 'text' | 'phone' | 'email' | 'number' | 'date' | 'select';

export interface FieldsTable {
  id: Generated<number>;
  project_id: number;
  display_name: string;
  label: string;
  type: FieldType;
  is_unique: number;
  is_required: number;
  /** JSON array of strings, for select fields */
  options: string | null;
  position: number;
  created_at: number;
}

export interface StatusesTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  created_at: number;
}

export interface CustomersTable {
  id: Generated<number>;
  project_id: number;
  /** JSON object display_name → value as entered (strings); an absent key is no value */
  data: string;
  created_at: number;
  updated_at: number;
}

/** One row per (customer, phone-type field) holding a value: the phone lookup index. */
export interface CustomerPhonesTable {
  project_id: number;
  phone: string;
  customer_id: number;
  field_id: number;
}

/** One row per (customer, unique field) holding a value: the database enforces uniqueness. */
export interface CustomerUniquesTable {
  project_id: number;
  field_id: number;
  value: string;
  customer_id: number;
}

export interface AssignsTable {
  id: Generated<number>;
  project_id: number;
  repository_id: number;
  customer_id: number;
  group_id: number | null;
  site_id: number | null;
  worker_id: number | null;
  status_id: number | null;
  last_call_at: number | null;
  last_notes: string | null;
  /** last_call_at, else created_at: the get_data sort key */
  activity_at: number;
  created_at: number;
  updated_at: number;
}

export interface CallEventsTable {
  id: Generated<number>;
  project_id: number;
  assign_id: number;
  at: number;
  worker_id: number | null;
  status_id: number | null;
  notes: string | null;
  call_id: string | null;
  source: string;
}

export type HistoryKind = 'field' | 'status' | 'call';
export type HistorySource = 'set_data' | 'set_status' | 'admin' | 'import';

export interface HistoryTable {
  id: Generated<number>;
  project_id: number;
  customer_id: number;
  assign_id: number | null;
  kind: HistoryKind;
  field: string | null;
  old_value: string | null;
  new_value: string | null;
  old_status_id: number | null;
  new_status_id: number | null;
  status_id: number | null;
  notes: string | null;
  call_id: string | null;
  worker_id: number | null;
  source: HistorySource;
  at: number;
}

/** Answers of telephony writes that carried a call_id: a retry gets the first answer back. */
export interface CallRequestsTable {
  endpoint: string;
  call_id: string;
  assign_id: number;
  request_hash: string;
  project_id: number;
  response: string;
  created_at: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  endpoint: string;
  code: number;
  latency_ms: number;
  key_id: string | null;
  client_ip: string | null;
  worker_id: string | null;
  assign_id: number | null;
  project_id: number | null;
}

/** Hourly rollup of call events and status changes for the dashboard (migration 008, crm/statistics.ts). */
export interface StatsHourlyTable {
  project_id: number;
  /** floor(at / 3600000): the UTC hour */
  hour_index: number;
  /** 0: none; -1 (with status_id -1): the marker of a computed hour */
  worker_id: number;
  status_id: number;
  calls: number;
  status_changes: number;
}

export interface Database {
  projects: ProjectsTable;
  groups: NamedPartTable;
  sites: NamedPartTable;
  workers: WorkersTable;
  repositories: RepositoriesTable;
  dids: DidsTable;
  fields: FieldsTable;
  statuses: StatusesTable;
  customers: CustomersTable;
  customer_phones: CustomerPhonesTable;
  customer_uniques: CustomerUniquesTable;
  assigns: AssignsTable;
  call_events: CallEventsTable;
  history: HistoryTable;
  call_requests: CallRequestsTable;
  audit_log: AuditLogTable;
  stats_hourly: StatsHourlyTable;
}

export type ProjectRow = Selectable<ProjectsTable>;
export type FieldRow = Selectable<FieldsTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type AssignRow = Selectable<AssignsTable>;
export type HistoryInsert = Insertable<HistoryTable>;
