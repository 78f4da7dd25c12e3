/** Calls to Pitwall with the publishable key; every failure resolves to `undefined`. */

export interface Api {
  post<T>(path: string, body: unknown): Promise<T | undefined>;
  get<T>(path: string): Promise<T | undefined>;
}

export function api(base: string, key: string, timeoutMs = 8000): Api {
  const call = async <T>(path: string, init: RequestInit): Promise<T | undefined> => {
    const ctl = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = ctl ? setTimeout(() => ctl.abort(), timeoutMs) : undefined;
    try {
      const res = await fetch(base + path, {
        ...init,
        mode: 'cors',
        credentials: 'omit',
        headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
        ...(ctl ? { signal: ctl.signal } : {}),
      });
      if (!res.ok) return undefined;
      if (res.status === 204) return {} as T;
      return (await res.json()) as T;
    } catch {
      return undefined;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
  return {
    post: (path, body) => call(path, { method: 'POST', body: JSON.stringify(body) }),
    get: (path) => call(path, { method: 'GET' }),
  };
}
