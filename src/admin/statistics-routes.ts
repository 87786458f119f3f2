// Statistics for the supervisor's dashboard: one route answers everything the dashboard draws, so a
// dashboard load is one request (crm/dashboard.ts; the queries are in crm/statistics.ts).
import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { projectDashboard, type Dashboard } from '../crm/dashboard.ts';
import type { AdminDeps } from './deps.ts';
import * as S from './schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });

const StatisticsQuery = Type.Object(
  {
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, default: 7, description: 'days counted, today included' })),
    recent: Type.Optional(Type.Integer({ minimum: 0, maximum: 200, default: 20, description: 'how many recent history rows' })),
  },
  { additionalProperties: false },
);

const DashboardBody = Type.Object({
  project_id: S.Id,
  time_zone: Type.String({ description: 'CRM_TIMEZONE: days and hours are local to it' }),
  days: Type.Integer(),
  since: Type.String({ description: 'local midnight starting the first day counted (ISO 8601)' }),
  today_start: Type.String(),
  totals: Type.Object({ calls_today: Count, calls: Count, status_changes_today: Count, status_changes: Count }),
  by_status: Type.Array(Type.Object({ status_id: Nullable(S.Id), name: Nullable(Type.String()), calls_today: Count, calls: Count }), { description: 'call events by the status they set (null: a call without a status)' }),
  by_agent: Type.Array(Type.Object({ worker_id: Nullable(S.Id), name: Nullable(Type.String()), calls_today: Count, calls: Count }), { description: 'name is null for an agent number that is not a registered worker' }),
  by_hour_today: Type.Array(Type.Object({ hour: Type.Integer({ minimum: 0, maximum: 23 }), calls: Count, status_changes: Count })),
  by_day: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), calls: Count, status_changes: Count })),
  repositories: Type.Array(
    Type.Object({
      repository_id: S.Id,
      name: Nullable(Type.String()),
      total: Count,
      no_status: Count,
      by_status: Type.Array(Type.Object({ status_id: S.Id, name: Nullable(Type.String()), count: Count })),
    }),
  ),
  recent: Type.Array(
    Type.Object({
      id: S.Id,
      kind: Type.String(),
      customer_id: S.Id,
      assign_id: Nullable(S.Id),
      field: Nullable(Type.String()),
      old_status_id: Nullable(Type.Integer()),
      new_status_id: Nullable(Type.Integer()),
      status_id: Nullable(Type.Integer()),
      worker_id: Nullable(Type.Integer()),
      source: Type.String(),
      at: Type.String(),
    }),
  ),
});

const iso = (ms: number) => new Date(ms).toISOString();
const toWire = (d: Dashboard) => ({ ...d, since: iso(d.since), today_start: iso(d.today_start), recent: d.recent.map((r) => ({ ...r, at: iso(r.at) })) });

export async function statisticsRoutes(app: FastifyInstance, { db, config }: AdminDeps) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/projects/:project_id/statistics',
    {
      config: { role: 'supervisor' },
      schema: {
        tags: ['statistics'],
        summary: "A project's dashboard: calls and status changes by status, agent, hour and day; repository progress; recent activity",
        description:
          'Days and hours are local to CRM_TIMEZONE; `days` counts back from today (today included). A call is a call event ' +
          '(set_status, set_data with a status, POST /assigns/:id/calls); a status change is a history row of kind "status". ' +
          'Repository progress counts assigns by their current status (no_status: never given one).',
        params: S.ProjectParams,
        querystring: StatisticsQuery,
        response: { 200: DashboardBody, ...S.errorResponses(400, 404) },
      },
    },
    async (req) => toWire(await projectDashboard(db, req.params.project_id, { days: req.query.days ?? 7, recent: req.query.recent ?? 20, now: Date.now(), timeZone: config.timezone })),
  );
}
