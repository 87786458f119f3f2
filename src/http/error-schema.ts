// The schema of the one JSON error object (errors.ts errorBody), for the OpenAPI document of every
// surface that answers it (admin API, sign-in): in the shared http layer, so no surface imports another.
import { Type } from '@fastify/type-provider-typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);
