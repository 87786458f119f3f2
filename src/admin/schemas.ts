// TypeBox schemas of the admin API: one schema gives validation, the handler's types and the OpenAPI document.
import { Type, type Static } from '@fastify/type-provider-typebox';

export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const OptionalId = Type.Optional(Id);
export const NullableId = Type.Optional(Type.Union([Id, Type.Null()]));
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });

// The error object every JSON surface answers (errors.ts errorBody): shared from the http layer.
export { ErrorBody } from '../http/error-schema.ts';

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64 })),
});
export type PageQueryT = Static<typeof PageQuery>;
/** Lists of setup rows that can be archived: archived rows are listed only with archived=true. */
export const ArchivedPageQuery = Type.Object({
  ...PageQuery.properties,
  archived: Type.Optional(Type.Boolean({ default: false, description: 'true: archived rows too' })),
});

export const ProjectParams = Type.Object({ project_id: Id });
export const RepositoryParams = Type.Object({ repository_id: Id });
export const CustomerParams = Type.Object({ customer_id: Id });
export const AssignParams = Type.Object({ assign_id: Id });

export const NamedInput = Type.Object({ id: OptionalId, name: Name }, { additionalProperties: false });
export const StaffedInput = Type.Object({ id: OptionalId, name: Name, group_id: NullableId, site_id: NullableId }, { additionalProperties: false });

export const Project = Type.Object({ id: Id, name: Type.String(), created_at: Type.String() }, { $id: 'Project' });
export const Part = Type.Object({ id: Id, project_id: Id, name: Type.String(), archived: Type.Boolean() });
export const Staffed = Type.Object({
  id: Id,
  project_id: Id,
  name: Type.String(),
  group_id: Type.Union([Id, Type.Null()]),
  site_id: Type.Union([Id, Type.Null()]),
  archived: Type.Boolean(),
});

export const FieldTypeT = Type.Union(['text', 'phone', 'email', 'number', 'date', 'select'].map((t) => Type.Literal(t)));
export const FieldInput = Type.Object(
  {
    id: OptionalId,
    display_name: Type.String({ minLength: 1, maxLength: 64 }),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    type: Type.Optional(FieldTypeT),
    unique: Type.Optional(Type.Boolean()),
    required: Type.Optional(Type.Boolean()),
    options: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export const Field = Type.Object({
  id: Id,
  project_id: Id,
  display_name: Type.String(),
  label: Type.String(),
  type: Type.String(),
  unique: Type.Boolean(),
  required: Type.Boolean(),
  options: Type.Union([Type.Array(Type.String()), Type.Null()]),
  position: Type.Integer(),
  archived: Type.Boolean(),
});

export const DidInput = Type.Object({ did: Type.String({ minLength: 1, maxLength: 64, pattern: '\\d' }), repository_id: NullableId }, { additionalProperties: false });
export const Did = Type.Object({ id: Id, project_id: Id, did: Type.String(), repository_id: Type.Union([Id, Type.Null()]) });

const FieldValue = Type.Union([Type.String({ maxLength: 10000 }), Type.Number(), Type.Boolean(), Type.Null()]);
export const FieldValues = Type.Record(Type.String({ maxLength: 64 }), FieldValue, { maxProperties: 500 });
export const CustomerInput = Type.Object({ id: OptionalId, fields: FieldValues }, { additionalProperties: false });
export const CustomerPatch = Type.Object({ fields: FieldValues }, { additionalProperties: false });
export const Customer = Type.Object({
  id: Id,
  project_id: Id,
  fields: Type.Record(Type.String(), Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const CustomerListQuery = Type.Object({
  limit: PageQuery.properties.limit,
  cursor: PageQuery.properties.cursor,
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'any spelling of a phone number; matched through the phone index' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'case-insensitive substring of any field value (scans the project: for operators)' })),
});

export const AssignInput = Type.Object(
  { id: OptionalId, customer_id: Id, group_id: NullableId, site_id: NullableId, worker_id: NullableId, status_id: NullableId },
  { additionalProperties: false },
);
const NullId = Type.Union([Id, Type.Null()]);
export const Assign = Type.Object({
  id: Id,
  project_id: Id,
  repository_id: Id,
  customer_id: Id,
  group_id: NullId,
  site_id: NullId,
  worker_id: NullId,
  status_id: NullId,
  last_call: Type.Union([Type.String(), Type.Null()]),
  last_notes: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});

export const CustomerWithAssigns = Type.Object({ ...Customer.properties, assigns: Type.Array(Assign) });

export const Status = Type.Object({ id: Id, name: Type.String() });
const NullString = Type.Union([Type.String(), Type.Null()]);

export const CallInput = Type.Object(
  {
    worker_id: NullableId,
    status_id: NullableId,
    notes: Type.Optional(Type.Union([Type.String({ maxLength: 10000 }), Type.Null()])),
    at: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 time of the call; default now' })),
    call_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "the telephony system's id of the call" })),
  },
  { additionalProperties: false },
);
export const CallEvent = Type.Object({
  id: Id,
  assign_id: Id,
  at: Type.String(),
  worker_id: NullId,
  status_id: NullId,
  notes: NullString,
  call_id: NullString,
  source: Type.String(),
  user_id: Type.Optional(NullId),
});

export const AssignDetail = Type.Object({
  ...Assign.properties,
  repository_name: Type.String(),
  customer: Customer,
  status: Type.Union([Status, Type.Null()]),
  last_call_event: Type.Union([CallEvent, Type.Null()]),
});

const HistoryCommon = {
  at: Type.String(),
  worker_id: NullId,
  /** the console user who made the change (null: a machine: telephony key, token, CLI, import) */
  user_id: Type.Optional(NullId),
  user_name: Type.Optional(NullString),
  source: Type.String(),
  call_id: NullString,
};
export const HistoryItem = Type.Union([
  Type.Object({ kind: Type.Literal('field'), ...HistoryCommon, field: Type.String(), old_value: NullString, new_value: NullString }),
  Type.Object({ kind: Type.Literal('status'), ...HistoryCommon, old_status_id: NullId, new_status_id: NullId }),
  Type.Object({ kind: Type.Literal('call'), ...HistoryCommon, status_id: NullId, notes: NullString }),
]);

export const listOf = <T extends ReturnType<typeof Type.Object>>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

/**
 * Error answers of an admin route, for validation of the answer and the OpenAPI document. 401 and 403
 * (the token check in front of every route) are always included.
 */
export const errorResponses = (...codes: number[]) => Object.fromEntries([401, 403, ...codes].sort().map((c) => [c, Type.Ref('Error')]));
