// Which database a connection speaks; its own file so the writer and the connection code both take it
// without importing each other.
export type Dialect = 'sqlite' | 'postgres';
