// Hebrew and English. The language is chosen per user: remembered in this browser under the user's
// name once chosen, else the browser's language. The page's `lang` and `dir` follow it, and the CSS
// uses logical properties only, so Hebrew lays out right-to-left with no second stylesheet.
import { createContext, useContext } from 'react';

export type Lang = 'he' | 'en';

const en = {
  appName: 'callcrm',
  signIn: 'Sign in',
  signOut: 'Sign out',
  username: 'Username',
  password: 'Password',
  badLogin: 'Wrong username or password.',
  throttled: 'Too many attempts. Try again in a minute.',
  search: 'Search',
  apiDocs: 'API docs',
  mainNav: 'Main',
  language: 'עברית',
  languageLabel: 'Switch to Hebrew',
  searchLabel: 'Phone, name, email or id',
  searchButton: 'Search',
  noResults: 'No customer found.',
  more: 'More results',
  results: 'Results',
  id: 'Id',
  name: 'Name',
  phones: 'Phones',
  email: 'Email',
  project: 'Project',
  open: 'Open',
  newCustomer: 'New customer',
  create: 'Create customer',
  created: 'Customer created.',
  popTitle: 'Incoming call',
  popChoose: 'Several customers have this number. Choose one:',
  popNone: 'No customer has this number.',
  loading: 'Loading…',
  customer: 'Customer',
  details: 'Details',
  save: 'Save',
  saved: 'Saved.',
  nothingChanged: 'Nothing to save.',
  fixErrors: 'Fix the marked fields.',
  call: 'Call',
  assigns: 'Lists and status',
  repository: 'List',
  status: 'Status',
  noStatus: '(no status)',
  lastCall: 'Last call',
  lastNotes: 'Last notes',
  statusSaved: 'Status changed.',
  recordCall: 'Record a call',
  notes: 'Notes',
  callStatus: 'Status after the call',
  unchanged: '(unchanged)',
  record: 'Record call',
  callRecorded: 'Call recorded.',
  history: 'History',
  noHistory: 'No history yet.',
  when: 'When',
  who: 'Who',
  what: 'What',
  source: 'Source',
  callEvent: 'Call',
  statusChange: 'Status',
  emptyValue: '(empty)',
  forbidden: 'This customer is not in your projects.',
  notFound: 'Not found.',
  error: 'Something went wrong',
  none: '—',
  assignOf: 'History of list',
  signedInAs: 'Signed in as',
  skip: 'Skip to content',
  home: 'Welcome. Search for a customer, or open a screen pop from your phone system.',
  choose: 'Choose',
  roleAgent: 'agent',
  roleSupervisor: 'supervisor',
  roleAdmin: 'admin',
  noAssigns: 'This customer is in no list.',
  searchForbidden: 'Agents find customers by phone number or id. Searching by name or email needs a supervisor.',
};

const he: typeof en = {
  appName: 'callcrm',
  signIn: 'כניסה',
  signOut: 'יציאה',
  username: 'שם משתמש',
  password: 'סיסמה',
  badLogin: 'שם משתמש או סיסמה שגויים.',
  throttled: 'יותר מדי ניסיונות. נסו שוב בעוד דקה.',
  search: 'חיפוש',
  apiDocs: 'תיעוד API',
  mainNav: 'ראשי',
  language: 'English',
  languageLabel: 'החלפה לאנגלית',
  searchLabel: 'טלפון, שם, דוא"ל או מזהה',
  searchButton: 'חיפוש',
  noResults: 'לא נמצא לקוח.',
  more: 'תוצאות נוספות',
  results: 'תוצאות',
  id: 'מזהה',
  name: 'שם',
  phones: 'טלפונים',
  email: 'דוא"ל',
  project: 'פרויקט',
  open: 'פתיחה',
  newCustomer: 'לקוח חדש',
  create: 'יצירת לקוח',
  created: 'הלקוח נוצר.',
  popTitle: 'שיחה נכנסת',
  popChoose: 'למספר זה כמה לקוחות. בחרו אחד:',
  popNone: 'אין לקוח עם מספר זה.',
  loading: 'טוען…',
  customer: 'לקוח',
  details: 'פרטים',
  save: 'שמירה',
  saved: 'נשמר.',
  nothingChanged: 'אין מה לשמור.',
  fixErrors: 'תקנו את השדות המסומנים.',
  call: 'חיוג',
  assigns: 'רשימות וסטטוס',
  repository: 'רשימה',
  status: 'סטטוס',
  noStatus: '(ללא סטטוס)',
  lastCall: 'שיחה אחרונה',
  lastNotes: 'הערות אחרונות',
  statusSaved: 'הסטטוס עודכן.',
  recordCall: 'תיעוד שיחה',
  notes: 'הערות',
  callStatus: 'סטטוס אחרי השיחה',
  unchanged: '(ללא שינוי)',
  record: 'תיעוד השיחה',
  callRecorded: 'השיחה תועדה.',
  history: 'היסטוריה',
  noHistory: 'אין עדיין היסטוריה.',
  when: 'מתי',
  who: 'מי',
  what: 'מה',
  source: 'מקור',
  callEvent: 'שיחה',
  statusChange: 'סטטוס',
  emptyValue: '(ריק)',
  forbidden: 'לקוח זה אינו בפרויקטים שלך.',
  notFound: 'לא נמצא.',
  error: 'משהו השתבש',
  none: '—',
  assignOf: 'היסטוריה של רשימה',
  signedInAs: 'מחובר/ת בתור',
  skip: 'דילוג לתוכן',
  home: 'ברוכים הבאים. חפשו לקוח, או פתחו חלון שיחה ממערכת הטלפוניה.',
  choose: 'בחירה',
  roleAgent: 'נציג/ה',
  roleSupervisor: 'מפקח/ת',
  roleAdmin: 'מנהל/ת',
  noAssigns: 'הלקוח אינו באף רשימה.',
  searchForbidden: 'נציגים מאתרים לקוחות לפי מספר טלפון או מזהה. חיפוש לפי שם או דוא"ל דורש מפקח/ת.',
};

export type Messages = typeof en;
export const MESSAGES: Record<Lang, Messages> = { en, he };

const KEY = 'callcrm.lang';

/** The language remembered for this user (or for this browser before sign-in), else the browser's. */
export function initialLang(username?: string): Lang {
  const stored = (username && localStorage.getItem(`${KEY}.${username}`)) || localStorage.getItem(KEY);
  if (stored === 'he' || stored === 'en') return stored;
  return navigator.languages?.some((l) => l.toLowerCase().startsWith('he') || l.toLowerCase().startsWith('iw')) ? 'he' : 'en';
}

export function rememberLang(lang: Lang, username?: string) {
  localStorage.setItem(KEY, lang);
  if (username) localStorage.setItem(`${KEY}.${username}`, lang);
}

export function applyLang(lang: Lang) {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'he' ? 'rtl' : 'ltr';
}

export const LangContext = createContext<{ lang: Lang; t: Messages }>({ lang: 'en', t: en });
export const useT = () => useContext(LangContext);
