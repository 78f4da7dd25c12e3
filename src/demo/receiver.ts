/**
 * The demo's own receiver for the starter workflows' webhooks and alerts (the shop's notification
 * endpoint, the operations hook, the ERP): a small HTTP server on loopback that answers 204 and
 * keeps count, so the workflows have somewhere real to deliver to.
 */
import { createServer, type Server } from 'node:http';

export interface Receiver {
  url: string;
  /** Deliveries received, by path (`/shop/customer-notices`, `/ops/pitwall`, …). */
  counts: Map<string, number>;
  /** The most recent bodies (at most 50), newest last. */
  recent: { path: string; body: string }[];
  close(): Promise<void>;
}

export async function startReceiver(host = '127.0.0.1', port = 0): Promise<Receiver> {
  const counts = new Map<string, number>();
  const recent: { path: string; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      if (chunks.length < 64) chunks.push(c);
    });
    req.on('end', () => {
      const p = (req.url ?? '/').split('?')[0] ?? '/';
      if (req.method === 'POST') {
        counts.set(p, (counts.get(p) ?? 0) + 1);
        recent.push({ path: p, body: Buffer.concat(chunks).toString('utf8').slice(0, 4096) });
        if (recent.length > 50) recent.shift();
        res.writeHead(204).end();
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(counts)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${actual}/`,
    counts,
    recent,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
