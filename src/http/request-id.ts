// Request ids for log lines: one sequence per app, shared by Fastify (its genReqId) and the telephony GET
// fast path, so every log line of a request carries an id of the same form whatever carried it.

export function createRequestIds(): () => string {
  let next = 0;
  return () => `req-${(++next).toString(36)}`;
}
