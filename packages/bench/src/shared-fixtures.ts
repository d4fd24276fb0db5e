/**
 * Where the project's shared fixtures are: `../shared/fixtures/<kind>/` next to the repository,
 * or the folder an environment variable names (CI and other layouts). Resolved from the built
 * file's location, so it works from `dist/` whichever chunk holds this code.
 */
export function sharedFixtureDir(kind: string, envVar: string): string {
  const root = process.env[envVar] ?? new URL(`../../../../shared/fixtures/${kind}/`, import.meta.url).pathname;
  return root.replace(/\/?$/, '/');
}
