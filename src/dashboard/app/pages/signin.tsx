/** Sign in with an API key (read or admin scope); the server answers with a session cookie. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Button, ErrorNote } from '../components.tsx';
import type { SessionInfo } from '../session.ts';

export function SignIn(props: { onSignedIn: (s: SessionInfo) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await api<SessionInfo>('/v1/session', { method: 'POST', body: { key: key.trim() } }));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin">
      <form onSubmit={submit} class="card">
        <h1>Sign in to Pitwall</h1>
        <p class="muted">
          Paste an API key with the <code>read</code> or <code>admin</code> scope. <code>npm start</code> prints one; or create one with{' '}
          <code>npm run pitwall -- keys create --scopes read,admin</code>.
        </p>
        <label for="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          placeholder="pw_…"
          required
        />
        <ErrorNote error={error} />
        <Button kind="primary" type="submit" busy={busy}>
          Sign in
        </Button>
      </form>
    </div>
  );
}
