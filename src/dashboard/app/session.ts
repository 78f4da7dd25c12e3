/** Who is signed in: the key the session was opened with. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface SessionInfo {
  csrf_token: string;
  key: { id: string; name: string; prefix: string; scopes: string[] };
  expires_at: string;
}

export const SessionContext = createContext<SessionInfo | undefined>(undefined);

export function useSession(): SessionInfo | undefined {
  return useContext(SessionContext);
}

/** Whether the signed-in key may change things (admin scope); pages hide or disable edits otherwise. */
export function useCanAdmin(): boolean {
  return useSession()?.key.scopes.includes('admin') ?? false;
}
