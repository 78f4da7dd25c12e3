/** Data quality per source: the verdicts the quality module keeps (docs/decide/quality.md). */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/index.ts';
import { listSourceQuality, type SourceQuality, sourceQuality } from '../../quality/index.ts';
import { requireScope } from '../auth.ts';
import type { HttpDeps } from '../deps.ts';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function wire(q: SourceQuality) {
  return {
    source: q.source,
    score: q.score,
    trusted: q.trusted,
    degraded: q.degraded,
    flags: q.flags,
    last_received_at: iso(q.lastReceivedMs),
    as_of: iso(q.updatedMs),
    stale_at: iso(q.staleAtMs),
  };
}

function boolParam(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new AppError('PW_QUERY_INVALID', `${name} must be true or false`, { pointer: `/${name}` });
}

/** Opaque cursors: base64url of the last source listed. */
function decodeCursor(c: string): string {
  const s = Buffer.from(c, 'base64url').toString('utf8');
  if (!s.startsWith('q:')) throw new AppError('PW_QUERY_INVALID', 'cursor is not one this server issued', { pointer: '/cursor' });
  return s.slice(2);
}
const encodeCursor = (source: string) => Buffer.from(`q:${source}`).toString('base64url');

export function qualityRoutes(app: FastifyInstance, d: HttpDeps): void {
  app.get('/v1/quality', async (req) => {
    await requireScope(d.keys, req, 'read');
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new AppError('PW_QUERY_INVALID', 'limit must be an integer from 1 to 1000', { pointer: '/limit' });
    const sources = await listSourceQuality(d.store.db, {
      trusted: boolParam(q.trusted, 'trusted'),
      degraded: boolParam(q.degraded, 'degraded'),
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit,
    });
    const last = sources[sources.length - 1];
    return { sources: sources.map(wire), next_cursor: sources.length === limit && last ? encodeCursor(last.source) : null };
  });

  app.get('/v1/quality/:source', async (req) => {
    await requireScope(d.keys, req, 'read');
    const { source } = req.params as { source: string };
    const q = await sourceQuality(d.store.db, source);
    if (!q)
      throw new AppError(
        'PW_QUALITY_SOURCE_NOT_FOUND',
        `no quality verdict for source "${source}" (sources appear once a reading is folded)`,
        {
          status: 404,
        },
      );
    return wire(q);
  });
}
