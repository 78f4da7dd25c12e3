/** Keys, devices, quarantine, events, backup and restore — over the same domain functions. */
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { AppError } from '../core/index.ts';
import { createDevice, createKey, listDevices, listKeys, parseScopes, revokeDevice, revokeKey } from '../govern/index.ts';
import { openEventLog } from '../log/index.ts';
import { openSqlite, sqliteFileIn } from '../store/index.ts';
import { config, runningPid, withStore } from './context.ts';

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

export async function keysCreate(opts: {
  scopes: string;
  name?: string;
  publishable?: boolean;
  origins?: string;
  store?: string;
}): Promise<void> {
  const scopes = opts.publishable ? (['publishable'] as const) : parseScopes(opts.scopes);
  // The storefront (its origin rules) loads only for a publishable key.
  const origins = opts.publishable ? (await import('../storefront/index.ts')).parseOrigins(opts.origins) : undefined;
  await withStore(async (store, _cfg, clock) => {
    const { key, info } = await createKey(store.db, clock, {
      name: opts.name ?? 'cli',
      scopes: [...scopes],
      ...(origins ? { origins } : {}),
      ...(opts.store ? { store: opts.store } : {}),
    });
    console.log(`Created key ${info.id} (${info.scopes.join(', ')}). It is shown only once:`);
    console.log(key);
  });
}

export async function keysList(): Promise<void> {
  await withStore(async (store) => {
    const keys = await listKeys(store.db);
    if (keys.length === 0) console.log('No keys. Create one: pitwall keys create --scopes ingest,read');
    for (const k of keys)
      console.log(
        `${k.id}\t${k.prefix}…\t${k.scopes.join(',')}\t${k.name}\tcreated ${iso(k.createdAt)}${k.origins ? `\torigins ${k.origins.join(',')}${k.store ? ` store ${k.store}` : ''}` : ''}${k.revokedAt ? `\tREVOKED ${iso(k.revokedAt)}` : ''}`,
      );
  });
}

export async function keysRevoke(id: string): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const k = await revokeKey(store.db, clock, id);
    console.log(`Revoked ${k.id} (${k.prefix}…). Servers stop accepting it within a second.`);
  });
}

export async function devicesCreate(id: string): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const d = await createDevice(store.db, clock, id);
    console.log(
      `Device ${d.id}: MQTT username "${d.id}". Publish to pitwall/devices/${d.id}/senml or …/telemetry. The password is shown only once:`,
    );
    console.log(d.password);
  });
}

export async function devicesList(): Promise<void> {
  await withStore(async (store) => {
    for (const d of await listDevices(store.db))
      console.log(`${d.id}\tcreated ${iso(d.createdAt)}${d.revokedAt ? `\tREVOKED ${iso(d.revokedAt)}` : ''}`);
  });
}

export async function devicesRevoke(id: string): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    if (!(await revokeDevice(store.db, clock, id))) throw new AppError('PW_DEVICE_NOT_FOUND', `no active device "${id}"`);
    console.log(`Revoked device ${id}.`);
  });
}

export async function quarantineList(opts: { status?: string; limit: string; json?: boolean }): Promise<void> {
  await withStore(async (store) => {
    const status = (opts.status ?? 'pending') as 'pending' | 'replayed';
    const { listQuarantine } = await import('../ingest/index.ts');
    const items = await listQuarantine(store.db, { status, limit: Number(opts.limit) || 50 });
    if (opts.json) {
      for (const i of items) console.log(JSON.stringify(i));
      return;
    }
    if (items.length === 0) console.log(`Nothing ${status} in quarantine.`);
    for (const i of items) console.log(`${i.id}\t${iso(i.receivedAt)}\t${i.channel}\t${i.code}\t${i.pointer ?? ''}\t${i.reason}`);
  });
}

export async function quarantineReplay(ids: string[], opts: { file?: string; all?: boolean }): Promise<void> {
  await withStore(async (store, cfg, clock) => {
    // The ingest pipeline loads only for a replay.
    const [{ SchemaRegistry }, { defaultDoors, Ingestor, listQuarantine }, { Metrics }] = await Promise.all([
      import('../events/index.ts'),
      import('../ingest/index.ts'),
      import('../ops/index.ts'),
    ]);
    const log = openEventLog(store, clock);
    const registry = await new SchemaRegistry().load(store.db);
    const ingestor = new Ingestor({
      store,
      log,
      registry,
      clock,
      metrics: new Metrics({ defaults: false }),
      maxPendingEvents: cfg.maxPendingEvents,
      doors: defaultDoors(),
    });
    try {
      const targets = opts.all ? (await listQuarantine(store.db, { status: 'pending', limit: 100_000 })).map((i) => i.id) : ids;
      if (targets.length === 0) throw new AppError('PW_QUARANTINE_NOT_FOUND', 'name the ids to replay, or pass --all');
      const payload = opts.file ? JSON.parse(readFileSync(opts.file, 'utf8')) : undefined;
      let failed = 0;
      for (const id of targets) {
        const r = await ingestor.replay(id, payload);
        const rejected = r.outcomes.find((o) => o.status === 'rejected');
        if (r.status === 'replayed') console.log(`${id}\treplayed\t${r.outcomes.map((o) => o.status).join(',')}`);
        else {
          failed++;
          console.log(
            `${id}\tstill rejected\t${rejected?.status === 'rejected' ? `${rejected.code} ${rejected.pointer ?? ''} ${rejected.message}` : ''}`,
          );
        }
      }
      if (failed > 0) process.exitCode = 1;
    } finally {
      await log.close();
    }
  });
}

export async function eventsTail(opts: { type?: string; limit: string; follow?: boolean }): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const log = openEventLog(store, clock);
    const n = Number(opts.limit) || 20;
    const latest = await log.query({ type: opts.type, order: 'desc', limit: n });
    let pos = 0;
    for (const e of latest.reverse()) {
      console.log(JSON.stringify({ seq: e.seq, ...e.event }));
      pos = e.seq;
    }
    if (!opts.follow) return;
    if (pos === 0) pos = await log.head();
    for (;;) {
      const next = await log.query({ type: opts.type, order: 'asc', afterSeq: pos, limit: 500 });
      for (const e of next) {
        console.log(JSON.stringify({ seq: e.seq, ...e.event }));
        pos = e.seq;
      }
      if (next.length === 0) await new Promise((r) => setTimeout(r, 500));
    }
  });
}

/** A consistent copy of a running embedded store (SQLite online backup API). */
export async function backup(file: string): Promise<void> {
  const cfg = config();
  if (cfg.databaseUrl) throw new AppError('PW_BACKUP_UNSUPPORTED', 'backup copies the embedded SQLite store; for PostgreSQL use pg_dump');
  const src = sqliteFileIn(cfg.dataDir);
  if (!existsSync(src)) throw new AppError('PW_BACKUP_NO_STORE', `no store at ${src} (is PITWALL_DATA_DIR right?)`);
  const target = path.resolve(file);
  if (existsSync(target)) throw new AppError('PW_BACKUP_EXISTS', `${target} exists; choose a new file name`);
  const db = openSqlite(src);
  try {
    const t0 = Date.now();
    // All pages in one step, inside one read transaction: copied in slices, the backup restarts
    // whenever the running server commits, and under steady ingest never finishes.
    await db.backup(target, { progress: () => 0x7fffffff });
    const copy = new SqliteDatabase(target, { readonly: true });
    const events = copy.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    copy.close();
    console.log(`Backed up ${src} to ${target} (${events} events) in ${Date.now() - t0} ms.`);
  } finally {
    db.close();
  }
}

export async function restore(file: string, opts: { force?: boolean }): Promise<void> {
  const cfg = config();
  if (cfg.databaseUrl)
    throw new AppError('PW_BACKUP_UNSUPPORTED', 'restore replaces the embedded SQLite store; for PostgreSQL use pg_restore');
  const pid = runningPid(cfg);
  if (pid) throw new AppError('PW_RESTORE_RUNNING', `Pitwall is running on ${cfg.dataDir} (pid ${pid}); stop it first`);
  const source = path.resolve(file);
  if (!existsSync(source)) throw new AppError('PW_RESTORE_NO_FILE', `no backup at ${source}`);
  const check = new SqliteDatabase(source, { readonly: true });
  let events = 0;
  try {
    const ok = check.prepare('PRAGMA integrity_check').pluck().get();
    if (ok !== 'ok') throw new AppError('PW_RESTORE_CORRUPT', `${source} fails its integrity check: ${String(ok)}`);
    events = check.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('PW_RESTORE_CORRUPT', `${source} is not a Pitwall backup: ${(e as Error).message}`);
  } finally {
    check.close();
  }
  const target = sqliteFileIn(cfg.dataDir);
  if (existsSync(target) && !opts.force) throw new AppError('PW_RESTORE_EXISTS', `${target} exists; pass --force to replace it`);
  for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
  copyFileSync(source, target);
  console.log(`Restored ${events} events from ${source} into ${target}.`);
}
