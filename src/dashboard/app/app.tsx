/** The app shell: sign-in gate, navigation, and the page for the current path. */
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onSignedOut, setCsrf } from './api.ts';
import { Button, Loading } from './components.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { RiskPage } from './pages/risk.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SignalsPage } from './pages/signals.tsx';
import { SignIn } from './pages/signin.tsx';
import { SurveysPage } from './pages/surveys.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';
import { Link, navigate, type Route, useRoute } from './router.tsx';
import { SessionContext, type SessionInfo } from './session.ts';
import { disconnectStream } from './stream.ts';

export interface PageProps {
  route: Route;
}

const PAGES: { id: string; label: string; component: FunctionComponent<PageProps> }[] = [
  { id: 'overview', label: 'Overview', component: OverviewPage },
  { id: 'workflows', label: 'Workflows', component: WorkflowsPage },
  { id: 'signals', label: 'Signals', component: SignalsPage },
  { id: 'surveys', label: 'Surveys', component: SurveysPage },
  { id: 'risk', label: 'Risk', component: RiskPage },
  { id: 'settings', label: 'Settings', component: SettingsPage },
];

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const route = useRoute();

  useEffect(() => {
    api<SessionInfo | { signed_in: false }>('/v1/session').then(
      (s) => {
        if (!('csrf_token' in s)) return setSession(null);
        setCsrf(s.csrf_token);
        setSession(s);
      },
      () => setSession(null),
    );
    return onSignedOut(() => {
      disconnectStream();
      setCsrf(undefined);
      setSession(null);
    });
  }, []);

  if (session === undefined) return <Loading />;
  if (session === null)
    return (
      <SignIn
        onSignedIn={(s) => {
          setCsrf(s.csrf_token);
          setSession(s);
          if (route.page === 'signin') navigate('/', true);
        }}
      />
    );

  const page = PAGES.find((p) => p.id === route.page) ?? PAGES[0];
  const Page = page?.component ?? OverviewPage;
  const signOut = async () => {
    await api('/v1/session', { method: 'DELETE' }).catch(() => undefined);
    disconnectStream();
    setCsrf(undefined);
    setSession(null);
  };

  return (
    <SessionContext.Provider value={session}>
      <div class="shell">
        <nav class="sidebar" aria-label="Pages">
          <div class="brand">
            <span class="logo" aria-hidden="true">
              ◗
            </span>{' '}
            Pitwall
          </div>
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <Link
                  href={p.id === 'overview' ? '/' : `/${p.id}`}
                  class={p.id === page?.id ? 'active' : ''}
                  aria-current={p.id === page?.id ? 'page' : undefined}
                >
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
          <div class="whoami small">
            <div class="muted">Signed in with</div>
            <div title={session.key.scopes.join(', ')}>
              {session.key.name} <code>{session.key.prefix}…</code>
            </div>
            <Button onClick={signOut} class="signout">
              Sign out
            </Button>
          </div>
        </nav>
        <main class="content">
          <Page route={route} />
        </main>
      </div>
    </SessionContext.Provider>
  );
}
