// The screen pop: {BASE}/app/pop?phone=&did=&agent=&project_id=. One customer: its card. Several: a
// chooser. None: the search page with the number and a new-customer form holding it.
import { useEffect, useState } from 'react';
import { api, ApiError, type Customer } from './api.ts';
import { useT } from './i18n.ts';
import { APP, navigate } from './router.ts';
import { CustomerList } from './Search.tsx';
import { formatPhone } from './format.ts';

export function Pop({ params }: { params: URLSearchParams }) {
  const { t } = useT();
  const [items, setItems] = useState<Customer[] | undefined>();
  const [error, setError] = useState('');
  const phone = params.get('phone') ?? '';

  useEffect(() => {
    const qs = new URLSearchParams();
    for (const k of ['phone', 'did', 'agent', 'project_id']) {
      const v = params.get(k);
      if (v) qs.set(k, v);
    }
    if (!phone.trim()) {
      navigate(`${APP}/search`, true);
      return;
    }
    api<{ items: Customer[] }>('GET', `/admin/v1/console/pop?${qs}`).then(
      ({ items }) => {
        if (items.length === 1) navigate(`${APP}/customers/${items[0]!.id}`, true);
        else if (items.length === 0) {
          const s = new URLSearchParams({ q: phone, new: '1' });
          const pid = params.get('project_id');
          if (pid) s.set('project_id', pid);
          navigate(`${APP}/search?${s}`, true);
        } else setItems(items);
      },
      (err: ApiError) => setError(err.status === 403 ? t.forbidden : `${t.error}: ${err.message}`),
    );
  }, [params.toString()]);

  return (
    <section aria-labelledby="pop-title">
      <h1 id="pop-title">
        {t.popTitle}: <bdi dir="ltr">{formatPhone(phone)}</bdi>
      </h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!error && !items && <p aria-live="polite">{t.loading}</p>}
      {items && (
        <>
          <p>{t.popChoose}</p>
          <CustomerList items={items} />
        </>
      )}
    </section>
  );
}
