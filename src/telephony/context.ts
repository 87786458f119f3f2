// What the three endpoint handlers share: config, database, reads, log.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { Db, Q } from '../db/connect.ts';
import type { Lookup } from '../crm/lookup.ts';
import type { ClientWarnings } from '../http/client-warnings.ts';
import type { Params } from './params.ts';
import type { Envelope } from './codes.ts';

export interface TelephonyContext {
  config: Config;
  db: Db;
  /** get_data's reads, compiled once for this database. */
  lookup: Lookup;
  log: FastifyBaseLogger;
  /** Warnings a client can trigger (unknown out names), rate-limited. */
  warnings: ClientWarnings;
  /** display_names of a project's fields, cached briefly: only used to warn about unknown out names. */
  fieldNames(projectId: number): Promise<ReadonlySet<string>>;
}

/** One request as a handler sees it: the key is already checked (pipeline.ts). */
export interface Call {
  params: Params;
  /** get_data's out names, read once with the limits (out.ts); undefined when none were given. */
  out: string[] | undefined;
}

/** What a handler hands back: the answer, plus what the audit log records about it. */
export interface Outcome {
  envelope: Envelope;
  assignId?: number | null;
  projectId?: number | null;
}

/**
 * Inserts the audit row of a successful write inside the write's transaction (crm/audit.ts), so the row
 * is on disk exactly when the write is. A handler calls it last in its transaction.
 */
export type AuditInWrite = (trx: Q, row: { assignId: number; projectId: number }) => Promise<void>;

export type Handler = (ctx: TelephonyContext, call: Call, auditInWrite?: AuditInWrite) => Promise<Outcome>;
