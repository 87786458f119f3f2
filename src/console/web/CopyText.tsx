// A value to paste elsewhere (a secret, a URL, a dialplan line): shown read-only, selectable, with a copy
// button. The clipboard API exists only on secure origins (https, localhost); elsewhere the button
// selects the text so Ctrl+C copies it.
import { useId, useRef, useState } from 'react';
import { useT } from './i18n.ts';

const TEXT = {
  en: { copy: 'Copy', copied: 'Copied.', selected: 'Selected: press Ctrl+C to copy.' },
  he: { copy: 'העתקה', copied: 'הועתק.', selected: 'נבחר: הקישו Ctrl+C להעתקה.' },
};

export function CopyText({ label, value, testId, rows = 1 }: { label: string; value: string; testId?: string; rows?: number }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const id = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const [note, setNote] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setNote(x.copied);
    } catch {
      ref.current?.select();
      setNote(x.selected);
    }
  };
  return (
    <div className="copy-text">
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <textarea id={id} ref={ref} readOnly dir="ltr" rows={rows} value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          {x.copy}
        </button>
      </div>
      <span className="ok" role="status">
        {note}
      </span>
    </div>
  );
}
