// The frame around every signed-in screen: skip link, navigation by role, language, sign-out.
import { BASE, type User } from './api.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, onLinkClick } from './router.ts';
import { importText } from './ImportWizard.tsx';

export function Shell({ user, setLang, signOut, children }: { user: User; setLang: (l: Lang) => void; signOut: () => void; children: React.ReactNode }) {
  const { t, lang } = useT();
  const role = user.role === 'admin' ? t.roleAdmin : user.role === 'supervisor' ? t.roleSupervisor : t.roleAgent;
  return (
    <>
      <a className="skip" href="#main">
        {t.skip}
      </a>
      <header className="top">
        <a className="brand" href={`${APP}/`} onClick={onLinkClick}>
          {t.appName}
        </a>
        <nav aria-label={t.mainNav}>
          <ul>
            <li>
              <a href={`${APP}/search`} onClick={onLinkClick}>
                {t.search}
              </a>
            </li>
            {user.role !== 'agent' &&
              ([['dashboard', t.dashboard], ['lists', t.lists]] as const).map(([path, label]) => (
                <li key={path}>
                  <a href={`${APP}/${path}`} onClick={onLinkClick}>
                    {label}
                  </a>
                </li>
              ))}
            {user.role !== 'agent' && (
              <li>
                <a href={`${APP}/import`} onClick={onLinkClick}>
                  {importText(lang).nav}
                </a>
              </li>
            )}
            {user.role === 'admin' &&
              ([['setup', t.setup], ['users', t.users], ['keys', t.keys], ['audit', t.audit]] as const).map(([path, label]) => (
                <li key={path}>
                  <a href={`${APP}/${path}`} onClick={onLinkClick}>
                    {label}
                  </a>
                </li>
              ))}
            {user.role === 'admin' &&
              ([['webhooks', t.webhooks], ['integrations', t.integrations]] as const).map(([path, label]) => (
                <li key={path}>
                  <a href={`${APP}/${path}`} onClick={onLinkClick}>
                    {label}
                  </a>
                </li>
              ))}
            {user.role === 'admin' && (
              <li>
                <a href={`${BASE}/docs`}>{t.apiDocs}</a>
              </li>
            )}
          </ul>
        </nav>
        <div className="who">
          <span>
            {t.signedInAs} <bdi>{user.display_name || user.username}</bdi> ({role})
          </span>
          <button type="button" className="link-button" lang={lang === 'he' ? 'en' : 'he'} onClick={() => setLang(lang === 'he' ? 'en' : 'he')}>
            {t.language}
          </button>
          <button type="button" onClick={signOut}>
            {t.signOut}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
