// Wire shapes of people and keys (admin API and sign-in answers): one schema gives validation, the
// handler's types and the OpenAPI document. A password or a key's secret hash never has a place here.
import { Type } from '@fastify/type-provider-typebox';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords.ts';
import { ENDPOINT_NAMES } from './keys.ts';

const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const NullId = Type.Union([Id, Type.Null()]);
const RoleT = Type.Union([Type.Literal('admin'), Type.Literal('supervisor'), Type.Literal('agent')]);
const ProjectIds = Type.Array(Id, { maxItems: 10_000, description: 'the projects this user (or key) may touch; absent or null = every project' });
const Password = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, description: `${PASSWORD_MIN} to ${PASSWORD_MAX} characters` });
const DisplayName = Type.Union([Type.String({ maxLength: 200 }), Type.Null()]);

export const Username = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s\\x00-\\x1f]+$', description: 'no spaces; sign-in ignores case' });

export const User = Type.Object({
  id: Id,
  username: Type.String(),
  role: RoleT,
  display_name: Type.Union([Type.String(), Type.Null()]),
  worker_id: NullId,
  project_ids: Type.Union([Type.Array(Id), Type.Null()]),
  disabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const UserInput = Type.Object(
  {
    id: Type.Optional(Id),
    username: Username,
    password: Password,
    role: RoleT,
    display_name: Type.Optional(DisplayName),
    worker_id: Type.Optional(NullId),
    project_ids: Type.Optional(Type.Union([ProjectIds, Type.Null()])),
  },
  { additionalProperties: false },
);

export const UserPatch = Type.Object(
  {
    password: Type.Optional(Password),
    role: Type.Optional(RoleT),
    display_name: Type.Optional(DisplayName),
    worker_id: Type.Optional(NullId),
    project_ids: Type.Optional(Type.Union([ProjectIds, Type.Null()])),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UserParams = Type.Object({ id: Id });

export const SignIn = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
  next: Type.Optional(Type.String({ maxLength: 2000, description: 'form sign-in: a same-site path to go to afterwards' })),
});

export const SessionAnswer = Type.Object({ user: User, csrf_token: Type.String() });

const EndpointT = Type.Union(ENDPOINT_NAMES.map((e) => Type.Literal(e)));

export const KeyInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    endpoints: Type.Array(EndpointT, { minItems: 1, maxItems: ENDPOINT_NAMES.length, uniqueItems: true }),
    project_ids: Type.Optional(Type.Union([ProjectIds, Type.Null()])),
  },
  { additionalProperties: false },
);

export const Key = Type.Object({
  id: Id,
  name: Type.String(),
  endpoints: Type.Array(Type.String()),
  project_ids: Type.Union([Type.Array(Id), Type.Null()]),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});

export const CreatedKey = Type.Object({ ...Key.properties, secret: Type.String({ description: 'shown this once; only its hash is kept' }) });
