// Frozen: never edit a migration that has shipped; add a new one.
// Export pages through a repository in assign-id order (`repository_id = ? and id > ? order by id
// limit ?`). With only (repository_id, customer_id) to go by, every page read and sorted all of the
// repository's remaining assigns, so an export took time quadratic in the repository's size. This index
// walks them in order. On SQLite it costs nothing on updates (they never change either column); on
// PostgreSQL an assign update that moves activity_at (indexed, so never HOT) writes one more entry.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('assigns_repository_id').on('assigns').columns(['repository_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('assigns_repository_id').execute();
}
