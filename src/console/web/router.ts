// A small router over the History API: the console's addresses are plain paths under {BASE}/app/.
import { useEffect, useState } from 'react';
import { BASE } from './api.ts';

export const APP = `${BASE}/app`;

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

/** The current location (path and query), re-rendering on navigation and on back/forward. */
export function useLocation(): URL {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    addEventListener('popstate', l);
    return () => {
      listeners.delete(l);
      removeEventListener('popstate', l);
    };
  }, []);
  return new URL(location.href);
}

/**
 * A `next` address is followed only when it is a path of this site: a sign-in link must not send
 * anyone elsewhere (`//evil.example`, `https://…`, `/\\evil`, `javascript:`). Anything else: the console's home.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return `${APP}/`;
  try {
    const u = new URL(next, location.origin);
    if (u.origin !== location.origin) return `${APP}/`;
    return u.pathname + u.search + u.hash;
  } catch {
    return `${APP}/`;
  }
}

/** Goes to a same-site address: in place for the console's own, by loading the page otherwise. */
export function go(to: string, replace = false) {
  if (to === APP || to.startsWith(`${APP}/`)) navigate(to, replace);
  else if (replace) location.replace(to);
  else location.assign(to);
}

/** A link that navigates in place; modified clicks (new tab, …) keep the browser's behaviour. */
export function onLinkClick(e: React.MouseEvent<HTMLAnchorElement>) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = e.currentTarget.getAttribute('href');
  if (!href || !href.startsWith(`${APP}/`)) return;
  e.preventDefault();
  navigate(href);
}
