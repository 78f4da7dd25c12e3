/**
 * The same-run floor for the ingest benchmarks: a bare node:http server that parses each
 * request and inserts its rows into SQLite in one transaction per request, with the same
 * durability setting (WAL, synchronous=FULL) — no validation, no dedupe, no index.
 */
import { createServer } from 'node:http';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';

const dir = process.argv[2];
if (!dir) throw new Error('usage: floor.ts <dataDir>');
const db = new SqliteDatabase(path.join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT, body TEXT)');
const insert = db.prepare('INSERT INTO events (id, body) VALUES (?, ?)');
const insertAll = db.transaction((rows: { messageId?: string }[]) => {
  for (const r of rows) insert.run(r.messageId ?? null, JSON.stringify(r));
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batch?: { messageId?: string }[] } & { messageId?: string };
    insertAll(body.batch ?? [body]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"success":true}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  db.close();
  process.exit(0);
});
