import { describe, expect, it } from 'vitest';
import { assignAliases, derivedAliases, imageVersion } from './service-aliases.js';

describe('service aliases (gitlab-runner SplitNameAndVersion table)', () => {
  it.each([
    ['service', ['service']],
    ['tutum/wordpress', ['tutum__wordpress', 'tutum-wordpress']],
    ['domain.tld:8080/namespace/service:version', ['domain.tld__namespace__service', 'domain.tld-namespace-service']],
    [`namespace/service@sha256:${'a'.repeat(64)}`, ['namespace__service', 'namespace-service']],
    ['localhost:5000/app:1', ['localhost__app', 'localhost-app']],
    ['postgres:16', ['postgres']],
  ])('%s → %j', (image, aliases) => {
    expect(derivedAliases(image)).toEqual(aliases);
  });

  it('gives the version for the log line', () => {
    expect(imageVersion('postgres')).toEqual({ name: 'postgres', version: ':latest' });
    expect(imageVersion('reg:5000/pg:16')).toEqual({ name: 'reg:5000/pg', version: ':16' });
    expect(imageVersion(`pg@sha256:${'b'.repeat(64)}`)).toEqual({ name: 'pg', version: `@sha256:${'b'.repeat(64)}` });
  });

  it('skips aliases taken by earlier services but keeps the service', () => {
    const taken = new Set(['build']);
    expect(assignAliases('mysql', ['db'], taken)).toEqual({ aliases: ['mysql', 'db'], skipped: [] });
    expect(assignAliases('mysql', ['db2'], taken)).toEqual({ aliases: ['db2'], skipped: ['mysql'] });
    expect(assignAliases('other', ['build'], taken)).toEqual({ aliases: ['other'], skipped: ['build'] });
  });
});
