// The sign-in page: {BASE}/app/login?next=…
import { useState } from 'react';
import { api, ApiError, readSession, type User } from './api.ts';
import { useT, type Lang } from './i18n.ts';
import { go, safeNext } from './router.ts';

export function Login({ onSignedIn, lang, setLang, signedIn }: { onSignedIn: (u: User) => void; lang: Lang; setLang: (l: Lang) => void; signedIn: boolean }) {
  const { t } = useT();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const next = safeNext(new URLSearchParams(location.search).get('next'));

  if (signedIn) {
    queueMicrotask(() => go(next, true));
    return null;
  }

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError('');
    try {
      const body = await api('POST', '/auth/login', { username: String(form.get('username') ?? ''), password: String(form.get('password') ?? '') });
      onSignedIn(readSession(body));
      go(next, true);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? t.throttled : err instanceof ApiError && (err.status === 401 || err.status === 400) ? t.badLogin : `${t.error}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <div className="login-box">
        <div className="login-top">
          <h1>{t.appName}</h1>
          <button type="button" className="link-button" lang={lang === 'he' ? 'en' : 'he'} onClick={() => setLang(lang === 'he' ? 'en' : 'he')}>
            {t.language}
          </button>
        </div>
        <form onSubmit={submit} method="post" aria-labelledby="signin-title">
          <h2 id="signin-title">{t.signIn}</h2>
          <label htmlFor="username">{t.username}</label>
          <input id="username" name="username" autoComplete="username" required autoFocus dir="auto" />
          <label htmlFor="password">{t.password}</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {t.signIn}
          </button>
        </form>
      </div>
    </main>
  );
}
