// What the three endpoint handlers share: config, database, key checker, log.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { Db, Q } from '../db/connect.ts';
import type { Lookup } from '../crm/lookup.ts';
import type { createKeyChecker } from './auth.ts';
import type { Params } from './params.ts';
import type { Envelope } from './codes.ts';

export interface TelephonyContext {
  config: Config;
  db: Db;
  checkKey: ReturnType<typeof createKeyChecker>;
  /** get_data's reads, compiled once for this database. */
  lookup: Lookup;
  log: FastifyBaseLogger;
  /** display_names of a project's fields, cached briefly: only used to warn about unknown out names. */
  fieldNames(projectId: number): Promise<ReadonlySet<string>>;
}

/** What a handler hands back: the answer, plus what the audit log records about it. */
export interface Outcome {
  envelope: Envelope;
  keyId?: string | null;
  assignId?: number | null;
  projectId?: number | null;
}

/**
 * Inserts the audit row of a successful write inside the write's transaction (crm/audit.ts), so the row
 * is on disk exactly when the write is. A handler calls it last in its transaction.
 */
export type AuditInWrite = (trx: Q, row: { keyId: string | null; assignId: number; projectId: number }) => Promise<void>;

export type Handler = (ctx: TelephonyContext, p: Params, apiKeyHeader: string | undefined, auditInWrite?: AuditInWrite) => Promise<Outcome>;
