// The server process's entry. `npm start` runs its build (dist/server.js, see scripts/build.mjs);
// development and tests run it from source: node --import tsx src/server.ts.
import { fatal, serve } from './main.ts';

serve().catch((err: unknown) => fatal(err instanceof Error ? err.message : String(err), 1));
