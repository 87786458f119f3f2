// The node:http carrier of the telephony pipeline (pipeline.ts). Dialers and IVRs call get_data (and often
// set_status) with GET and query parameters, inside live calls, tens of thousands of times a second;
// Fastify's routing, hooks and reply machinery cost ~25% of such a request. The server's listener
// (app.ts) hands an endpoint's requests other than POST (paths.ts decides) to this function; it only
// adapts the request and writes the pipeline's answer. POST, with its body, goes to Fastify.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Endpoint } from '../config.ts';
import type { ClientAddress } from '../http/client-address.ts';
import type { TelephonyPipeline } from './pipeline.ts';

export type FastPath = (req: IncomingMessage, res: ServerResponse, endpoint: Endpoint) => void;

export function createFastPath(pipeline: TelephonyPipeline, clientAddress: ClientAddress, nextRequestId: () => string): FastPath {
  return (req, res, endpoint) => {
    pipeline({
      endpoint,
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: req.headers,
      ip: clientAddress(req),
      reqId: nextRequestId(),
      // Only a POST's body is read, and POST never comes here.
      body: () => Promise.reject(new Error('the fast path carries no body')),
    }).then(
      (answer) => {
        answer.headers['content-length'] ??= String(Buffer.byteLength(answer.body));
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      },
      // The pipeline answers every failure itself; this is a bug, and the socket must not hang.
      () => res.destroy(),
    );
  };
}
