/**
 * The documented rule that maps a secret's name to an environment variable, used when no
 * explicit mapping names it:
 *
 * 1. the `prefix` is removed from the front (`cineview-gemini-api` → `gemini-api`);
 * 2. the rest is upper-cased, each run of characters other than letters and digits becoming
 *    one `_` (`gemini-api` → `GEMINI_API`);
 * 3. a name ending in `_API` is an API's key, so `_KEY` is appended (`GEMINI_API_KEY`).
 *
 * So `cineview-gemini-api` → `GEMINI_API_KEY`, `cineview/database-url` → `DATABASE_URL`,
 * `stripe-secret-key` → `STRIPE_SECRET_KEY`.
 */
export function defaultEnvName(name: string, prefix = ''): string {
  const bare = prefix !== '' && name.startsWith(prefix) ? name.slice(prefix.length) : name;
  const snake = bare
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return snake.endsWith('_API') || snake === 'API' ? `${snake}_KEY` : snake;
}
