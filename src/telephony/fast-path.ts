// The node:http carrier of the telephony pipeline (pipeline.ts). Dialers and IVRs call get_data (and often
// set_status) with GET and query parameters, inside live calls, tens of thousands of times a second;
// Fastify's routing, hooks and reply machinery cost ~25% of such a request. The server's listener
// (app.ts) hands an endpoint's requests (paths.ts decides) to this function, form and JSON POSTs
// included, whose body the pipeline reads from the request stream (body.ts); it only adapts the request
// and writes the pipeline's answer. A multipart POST goes to Fastify, whose @fastify/multipart splits it.
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
      // Only a POST's body is read; a multipart POST never comes here (app.ts), so the body is a stream.
      body: async () => ({ kind: 'stream', stream: req }),
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
