// What every admin route file is given: its own file, so route files need not import the module that
// registers them (admin/index.ts), which would tie them in a circle.
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import type { SetupCache } from '../crm/setup-cache.ts';

export interface AdminDeps {
  config: Config;
  db: Db;
  /** the process's setup cache: routes that change setup tell it after their commit */
  setup: SetupCache;
}
