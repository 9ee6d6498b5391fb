import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENVIRONMENT, loadConfig } from './config.ts';

describe('configuration', () => {
  it('defaults to demo mode on the embedded store at 127.0.0.1:8080', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      mode: 'demo',
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: null,
      demographics: { kind: 'local' },
    });
    expect(c.dataDir).toMatch(/\.cpis-data$/);
  });

  it('refuses production mode without a token issuer, and bad values, naming the variable', () => {
    expect(() => loadConfig({ CPIS_MODE: 'production' })).toThrow(/CPIS_AUTH_ISSUER/);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ CPIS_DEMOGRAPHICS: 'pds' })).toThrow(/CPIS_PDS_BASE_URL/);
    expect(() => loadConfig({ CPIS_MODE: 'staging' })).toThrow(/CPIS_MODE/);
  });

  it('is documented: the README table lists every variable the service reads', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [name] of ENVIRONMENT) expect(readme).toContain(`| \`${name}\` |`);
    const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
    const read = new Set([...source.matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]));
    for (const name of read) expect(ENVIRONMENT.map(([n]) => n)).toContain(name);
  });
});
