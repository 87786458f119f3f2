// The console's entry: who is signed in, which language, and which screen the address names.
import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, readSession, setCsrfToken, whenSignedOut, type User } from './api.ts';
import { applyLang, initialLang, LangContext, MESSAGES, rememberLang, type Lang } from './i18n.ts';
import { APP, navigate, useLocation } from './router.ts';
import { Login } from './Login.tsx';
import { Shell } from './Shell.tsx';
import { Pop } from './Pop.tsx';
import { Search } from './Search.tsx';
import { CustomerCard } from './CustomerCard.tsx';
import { Dashboard } from './Dashboard.tsx';
import { Lists } from './Lists.tsx';
import { Setup } from './Setup.tsx';
import { Users, Keys } from './People.tsx';
import { Audit } from './Audit.tsx';
import { ImportWizard } from './ImportWizard.tsx';
import { Webhooks } from './Webhooks.tsx';
import { Integrations } from './Integrations.tsx';
import './styles.css';

type Session = { state: 'loading' } | { state: 'out' } | { state: 'in'; user: User };

function App() {
  const loc = useLocation();
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [lang, setLangState] = useState<Lang>(() => initialLang());
  const path = loc.pathname.slice(APP.length) || '/';

  useEffect(() => applyLang(lang), [lang]);

  const signedIn = useCallback((user: User) => {
    setSession({ state: 'in', user });
    setLangState(initialLang(user.username));
  }, []);

  useEffect(() => {
    whenSignedOut(() => setSession({ state: 'out' }));
    api('GET', '/auth/me').then(
      (body) => signedIn(readSession(body)),
      () => setSession({ state: 'out' }),
    );
  }, [signedIn]);

  // Not signed in: the sign-in page, then back to the address asked for.
  useEffect(() => {
    if (session.state === 'out' && path !== '/login') {
      const next = loc.pathname + loc.search;
      navigate(`${APP}/login?next=${encodeURIComponent(next)}`, true);
    }
  }, [session.state, path, loc.pathname, loc.search]);

  const setLang = (l: Lang) => {
    rememberLang(l, session.state === 'in' ? session.user.username : undefined);
    setLangState(l);
  };
  const signOut = async () => {
    try {
      await api('POST', '/auth/logout', {});
    } finally {
      setCsrfToken(undefined);
      setSession({ state: 'out' });
      navigate(`${APP}/login`, true);
    }
  };

  const ctx = useMemo(() => ({ lang, t: MESSAGES[lang] }), [lang]);
  let screen: React.ReactNode;
  if (path === '/login' || session.state !== 'in') {
    screen = session.state === 'loading' ? null : <Login onSignedIn={signedIn} lang={lang} setLang={setLang} signedIn={session.state === 'in'} />;
  } else {
    const user = session.user;
    const m = /^\/customers\/(\d+)$/.exec(path);
    const page =
      path === '/pop' ? <Pop params={loc.searchParams} /> :
      path === '/search' ? <Search key={loc.search} params={loc.searchParams} /> :
      m ? <CustomerCard key={m[1]} id={Number(m[1])} user={user} /> :
      path === '/dashboard' ? <Dashboard key={loc.search} params={loc.searchParams} /> :
      path === '/lists' ? <Lists key={loc.pathname} params={loc.searchParams} /> :
      path === '/setup' ? <Setup params={loc.searchParams} /> :
      path === '/users' ? <Users /> :
      path === '/keys' ? <Keys /> :
      path === '/audit' ? <Audit params={loc.searchParams} /> :
      path === '/import' && user.role !== 'agent' ? <ImportWizard /> :
      path === '/webhooks' ? <Webhooks params={loc.searchParams} /> :
      path === '/integrations' ? <Integrations params={loc.searchParams} /> :
      path === '/' ? <Search key={loc.search} params={loc.searchParams} home /> :
      <p role="alert">{ctx.t.notFound}</p>;
    screen = (
      <Shell user={user} setLang={setLang} signOut={signOut}>
        {page}
      </Shell>
    );
  }
  return <LangContext.Provider value={ctx}>{screen}</LangContext.Provider>;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
