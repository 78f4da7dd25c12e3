/**
 * The dashboard's API client: same-origin fetch with the session cookie, the session's CSRF
 * token on every change, problem+json errors as `ApiError`, and `useApi` for pages.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly pointer?: string,
    /** The whole problem+json body (e.g. `problems[]` of PW_SURVEY_INVALID). */
    readonly problem?: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
const signedOutListeners = new Set<() => void>();

export function setCsrf(token: string | undefined): void {
  csrfToken = token;
}

/** Called when any request finds the session gone (the app shows the sign-in page). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  /** JSON body (objects), or raw text with `contentType`. */
  body?: unknown;
  contentType?: string;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    body = typeof opts.body === 'string' && opts.contentType ? opts.body : JSON.stringify(opts.body);
  }
  if (method !== 'GET' && csrfToken) headers['x-pitwall-csrf'] = csrfToken;
  const res = await fetch(withQuery(path, opts.query), { method, headers, body, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data: unknown = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const p = (data ?? {}) as { code?: string; detail?: string; title?: string; pointer?: string };
    const err = new ApiError(
      res.status,
      p.code ?? `HTTP_${res.status}`,
      p.detail ?? p.title ?? res.statusText,
      p.pointer,
      p as Record<string, unknown>,
    );
    if (res.status === 401 && path !== '/v1/session') for (const l of signedOutListeners) l();
    throw err;
  }
  return data as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Fetches `path` (null: nothing yet) and refetches when it or `query` changes. */
export function useApi<T>(path: string | null, query?: Query): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: path !== null });
  const [n, setN] = useState(0);
  const key = path === null ? null : withQuery(path, query);
  const latest = useRef(0);
  useEffect(() => {
    if (key === null) return;
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    api<T>(key).then(
      (data) => ticket === latest.current && setState({ data, loading: false }),
      (error: Error) => ticket === latest.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [key, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
