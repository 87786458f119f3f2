// A real webhook receiver for tests: node:http on 127.0.0.1, recording each request; its answer is set
// per test (2xx, an error status, or never answering).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Mode = 'ok' | 'fail' | 'hang';

export class Receiver {
  received: Received[] = [];
  mode: Mode = 'ok';
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        if (this.mode === 'hang') return; // never answers
        res.writeHead(this.mode === 'ok' ? 204 : 500).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The events received of one type, parsed. */
  events(type?: string): any[] {
    return this.received.map((r) => JSON.parse(r.body)).filter((e) => type === undefined || e.type === type);
  }

  async waitFor(pred: (r: Receiver) => boolean, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (Date.now() > end) throw new Error(`receiver: condition not met within ${timeoutMs} ms; got ${this.received.length} requests`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** What a receiver does to verify X-Callcrm-Signature (as docs/integrations.md shows). */
export function verify(secret: string, r: Received): boolean {
  const ts = String(r.headers['x-callcrm-timestamp']);
  const sig = String(r.headers['x-callcrm-signature']);
  const expected = 'sha256=' + createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex');
  return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
}
