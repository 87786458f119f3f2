// The typed map of the database: one interface per table, row names only.
// Wire objects (what the APIs answer) are built from these in one place per surface.
// Times are integer milliseconds since the epoch in both dialects (no dialect date types to reconcile).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  /** when it was retired (archived); null while in use */
  archived_at: Generated<number | null>;
}

export interface WorkersTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  group_id: number | null;
  site_id: number | null;
  created_at: number;
  archived_at: Generated<number | null>;
}

export interface RepositoriesTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  group_id: number | null;
  site_id: number | null;
  created_at: number;
  archived_at: Generated<number | null>;
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
  archived_at: Generated<number | null>;
}

export interface StatusesTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  created_at: number;
  archived_at: Generated<number | null>;
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
  /** The signed-in user who recorded it through the admin API (null: a machine: token, key, CLI). */
  user_id: OptionalOnInsert<number | null>;
}

export type HistoryKind = 'field' | 'status' | 'call';
export type HistorySource = 'set_data' | 'set_status' | 'admin' | 'import' | '3cx' | 'vicidial';

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
  /** The signed-in user who made the change through the admin API (null: a machine: token, key, CLI). */
  user_id: OptionalOnInsert<number | null>;
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
  /** admin changes: who made it ("admin-token" for the bearer token) */
  actor: string | null;
  /** admin changes: what changed, as JSON of ids and setup attributes (never a customer's values) */
  detail: string | null;
  /** The named key's name (api_keys), or null for a CRM_AUTHKEY_* key. */
  key_name: OptionalOnInsert<string | null>;
}

/** One row (id 1): bumped in the transaction of every setup change; processes poll it (crm/setup-cache.ts). */
export interface SetupVersionTable {
  id: number;
  version: number;
}

/** An assign that left its repository (DELETE /assigns/:id or an erasure): its history stays readable by id. */
export interface RemovedAssignsTable {
  id: number;
  project_id: number;
  repository_id: number;
  customer_id: number;
  removed_at: number;
  /** 'removed' or 'erased' */
  reason: string;
}

/** One import (migration 005): who, when, where, counts. */
export interface ImportsTable {
  id: Generated<number>;
  project_id: number;
  repository_id: number;
  who: string;
  format: string;
  encoding: Generated<string | null>;
  on_duplicate: string;
  /** running | done | failed | undone */
  status: string;
  started_at: number;
  finished_at: Generated<number | null>;
  rows: Generated<number>;
  bytes: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  skipped: Generated<number>;
  error_count: Generated<number>;
  /** JSON array of the header's cells (null for NDJSON) */
  header: Generated<string | null>;
  undone_at: Generated<number | null>;
}

/** Every rejected row of an import, as read. */
export interface ImportRejectsTable {
  id: Generated<number>;
  import_id: number;
  line: number;
  /** JSON array of the row's cells */
  cells: string;
  error: string;
}

/** The assigns (and customers, new_customer = 1) an import created: what an undo may remove. */
export interface ImportItemsTable {
  import_id: number;
  assign_id: number;
  customer_id: number;
  new_customer: number;
}

/** A column added later: inserts written before it may leave it out. */
type OptionalOnInsert<T> = ColumnType<T, T | undefined, T>;

export type Role = 'admin' | 'supervisor' | 'agent';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** lower-cased username, unique */
  username_key: string;
  /** scrypt$N$r$p$salt$hash (access/passwords.ts) */
  password_hash: string;
  role: Role;
  display_name: string | null;
  worker_id: number | null;
  /** JSON array of project ids; null = every project */
  project_ids: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's session id */
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  client_ip: string | null;
}

export interface ApiKeysTable {
  id: Generated<number>;
  name: string;
  /** SHA-256 (hex) of the secret */
  secret_hash: string;
  /** JSON array of endpoint names */
  endpoints: string;
  /** JSON array of project ids; null = every project */
  project_ids: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A webhook subscription. events/project_ids are comma-framed lists (',a,b,'), matched with LIKE. */
export interface WebhooksTable {
  id: Generated<number>;
  url: string;
  secret: string;
  events: string;
  project_ids: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The outbox and delivery log: one row per (webhook, event). */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  event_id: string;
  type: string;
  project_id: number | null;
  /** JSON of the event's data */
  data: string;
  at: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  pending_since: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

/** The webhook outbox: the events of one write, waiting for the sender's fan-out into deliveries. */
export interface WebhookEventsTable {
  id: Generated<number>;
  /** JSON array of OutboxEvent (crm/events.ts) */
  events: string;
  created_at: number;
}

/** Per-project settings of an inbound integration (kind 3cx | vicidial | asterisk), JSON. */
export interface IntegrationSettingsTable {
  project_id: number;
  kind: string;
  settings: string;
  updated_at: number;
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
  imports: ImportsTable;
  import_rejects: ImportRejectsTable;
  import_items: ImportItemsTable;
  setup_version: SetupVersionTable;
  removed_assigns: RemovedAssignsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_events: WebhookEventsTable;
  integration_settings: IntegrationSettingsTable;
  stats_hourly: StatsHourlyTable;
}

export type ProjectRow = Selectable<ProjectsTable>;
export type FieldRow = Selectable<FieldsTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type AssignRow = Selectable<AssignsTable>;
