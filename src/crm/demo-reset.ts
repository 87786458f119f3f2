// `callcrm demo --reset`: the demo project's data (customers, assigns, their history, calls, imports)
// is removed, so loadDemo puts back the seed's rows as they were and the README walk-through can be
// repeated. The project's setup (fields, statuses, repositories, DIDs) stays: loadDemo only adds what is
// missing. Refused for a project that is not the demo project.
import type { Db } from '../db/connect.ts';
import { conflict } from '../errors.ts';
import { DEMO } from './demo.ts';

export async function resetDemoData(db: Db): Promise<{ removed_customers: number }> {
  return db.write(async (trx) => {
    const P = DEMO.projectId;
    const project = await trx.selectFrom('projects').select('name').where('id', '=', P).executeTakeFirst();
    if (!project) return { removed_customers: 0 };
    if (project.name !== DEMO.projectName) throw conflict(`project ${P} is not the demo project ("${project.name}"); --reset only resets the demo`);
    const imports = trx.selectFrom('imports').select('id').where('project_id', '=', P);
    await trx.deleteFrom('import_items').where('import_id', 'in', imports).execute();
    await trx.deleteFrom('import_rejects').where('import_id', 'in', imports).execute();
    await trx.deleteFrom('imports').where('project_id', '=', P).execute();
    await trx.deleteFrom('history').where('project_id', '=', P).execute();
    await trx.deleteFrom('call_events').where('project_id', '=', P).execute();
    await trx.deleteFrom('call_requests').where('project_id', '=', P).execute();
    // The dashboard's rollup of those calls and status changes (migration 008) goes with them.
    await trx.deleteFrom('stats_hourly').where('project_id', '=', P).execute();
    await trx.deleteFrom('assigns').where('project_id', '=', P).execute();
    await trx.deleteFrom('customer_phones').where('project_id', '=', P).execute();
    await trx.deleteFrom('customer_uniques').where('project_id', '=', P).execute();
    const removed = await trx.deleteFrom('customers').where('project_id', '=', P).executeTakeFirst();
    return { removed_customers: Number(removed.numDeletedRows) };
  });
}
