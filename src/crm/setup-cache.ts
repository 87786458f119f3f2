// The setup cache: setup rows the telephony endpoints read on every call (a project's existence, a
// worker's project, a DID's pin, a status's project, a project's fields), remembered per process.
//
// Invalidation story. Setup rows change only through the functions of crm/setup.ts, crm/fields.ts and
// crm/lifecycle.ts (admin API, CLI), and every one of them calls bumpSetupVersion() in its own
// transaction, so the single `setup_version` row moves exactly when setup changed, and commits with it.
// Every process learns of a change in one of three ways:
// - the process that made it (admin route) calls changed() right after its commit: seen at once;
// - every process polls the version row every SETUP_POLL_MS (a one-row primary-key read: ~4 reads a second
//   per process, on both dialects and behind PgBouncer, where LISTEN/NOTIFY would not work): other
//   server processes (CRM_WORKERS, other instances on the same PostgreSQL, the CLI beside a server) see
//   a change within SETUP_POLL_MS plus one read, well inside the spec's one second;
// - writers that turn names into fields (set_data) read the version inside their own transaction
//   (syncIn), so a field renamed or archived a moment ago is never written under its old name.
// A cache entry is filled only if no invalidation happened while its read was in flight (a generation
// counter), so a read that started before a change cannot store the old row after the change was seen.
// Only positive answers are remembered: a project or DID created a moment ago answers at once anyway.
import type { Db, Q } from '../db/connect.ts';
import { listFields, type Field } from './fields.ts';
import { readSetupVersion } from './setup-version.ts';

/** How often each process reads the setup version. */
export const SETUP_POLL_MS = 250;

/** A project's fields as the telephony API sees them. */
export interface ProjectFields {
  /** fields in use, by display_name (set_data) */
  byName: ReadonlyMap<string, Field>;
  /** display_names of archived fields: get_data answers them null */
  archived: ReadonlySet<string>;
}

/** One named map of the cache; emptied with all the others on invalidation. */
export class Memo<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly cache: SetupCache) {
    cache.register(this.map);
  }
  peek(k: K): V | undefined {
    return this.map.get(k);
  }
  forget(k: K) {
    this.map.delete(k);
  }
  /** The remembered value, else load it; remembered only when defined and nothing changed meanwhile. */
  async get(k: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const known = this.map.get(k);
    if (known !== undefined) return known;
    const generation = this.cache.generation;
    const v = await load();
    if (v !== undefined && generation === this.cache.generation) {
      // Bounded: keys come from requests, but only existing rows are stored; a guard, not a working limit.
      if (this.map.size >= 100_000) this.map.clear();
      this.map.set(k, v);
    }
    return v;
  }
}

export class SetupCache {
  /** Moves on every invalidation; fills that started under an older generation are dropped. */
  generation = 0;
  private version: number | undefined;
  private readonly maps: Map<unknown, unknown>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  readonly projects = new Memo<number, true>(this);
  /** worker id → its project */
  readonly workers = new Memo<number, number>(this);
  /** `${project}\0${didNorm}` → pinned repository or null */
  readonly pins = new Memo<string, number | null>(this);
  /** status id → its project, for statuses in use (an archived status cannot be set) */
  readonly statuses = new Memo<number, number>(this);
  readonly fields = new Memo<number, ProjectFields>(this);

  constructor(
    private readonly db: Db,
    private readonly pollMs = SETUP_POLL_MS,
  ) {}

  register(map: Map<unknown, unknown>) {
    this.maps.push(map);
  }

  /** Forgets everything (a setup change was seen). */
  invalidate() {
    this.generation++;
    for (const m of this.maps) m.clear();
  }

  /** Compares the version read through q with the last one seen; a difference empties the cache. */
  async syncIn(q: Q): Promise<void> {
    const v = await readSetupVersion(q);
    if (v !== this.version) {
      this.version = v;
      this.invalidate();
    }
  }

  /** This process committed a setup change: forget now, do not wait for the next poll. */
  changed() {
    this.invalidate();
  }

  /** Starts polling the version (servers); the timer does not keep the process alive. */
  start() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = this.syncIn(this.db.read)
        .catch(() => {
          // Unknown version (database unreachable): the next successful read empties the cache.
          this.version = undefined;
        })
        .finally(() => {
          this.polling = undefined;
        });
    }, this.pollMs);
    this.timer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** A project's fields (loaded through q on a miss). */
  projectFields(projectId: number, q: Q = this.db.read): Promise<ProjectFields> {
    return this.fields.get(projectId, async () => {
      const all = await listFields(q, projectId, { archived: true });
      return {
        byName: new Map(all.filter((f) => !f.archived).map((f) => [f.display_name, f])),
        archived: new Set(all.filter((f) => f.archived).map((f) => f.display_name)),
      };
    }) as Promise<ProjectFields>;
  }
}

export function createSetupCache(db: Db, pollMs = SETUP_POLL_MS): SetupCache {
  return new SetupCache(db, pollMs);
}
