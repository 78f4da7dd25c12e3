/** localStorage that may be missing or refuse (private mode, sandboxed frames): never throws. */

export function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Storage refused: the widget still works, it just forgets.
  }
}

function uuid(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The shopper's anonymous id, kept in `pitwall.aid` (the contract's key). */
export function anonymousId(given: string | undefined): string {
  if (given) return given;
  const kept = read('pitwall.aid');
  if (kept) return kept;
  const id = uuid();
  write('pitwall.aid', id);
  return id;
}

/** Whether the shopper dismissed or completed this survey before. */
export function surveyClosed(surveyId: string): boolean {
  return read(`pitwall.survey.${surveyId}`) !== null;
}

export function rememberSurvey(surveyId: string, how: 'dismissed' | 'completed'): void {
  write(`pitwall.survey.${surveyId}`, how);
}
