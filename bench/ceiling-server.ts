// Case (a), the ceiling: bare node:http answering every request with one constant JSON body (the byte
// size of a typical get_data answer). No routing, no parsing, no database: what one Node process on
// this machine can answer at all. Every other case is reported as a ratio to it.
// Run by bench/processes.ts as a child process: PORT and CEILING_BODY come from the environment.
import { createServer } from 'node:http';

const body = Buffer.from(process.env.CEILING_BODY ?? '{"code":0,"status":"success","message":[]}');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) };

createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(process.env.PORT ?? 0), '127.0.0.1');

process.once('SIGTERM', () => process.exit(0));
