export { type PgCheckOptions, type PgQueryable, pgCheck } from './drivers/pg.js';
