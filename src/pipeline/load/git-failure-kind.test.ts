import { describe, expect, it } from 'vitest';
import { gitFailureKind } from './project-include.js';

describe('gitFailureKind', () => {
  it('reads HTTP statuses only as curl reports them, never in the URL (a port 40185 is not a 401)', () => {
    expect(gitFailureKind("unable to access 'http://127.0.0.1:40185/group/lib.git/': Failed to connect to 127.0.0.1 port 40185 after 0 ms: Couldn't connect to server")).toBe('unreachable');
    expect(gitFailureKind("unable to access 'http://10.0.0.1:4031/x.git/': The requested URL returned error: 403")).toBe('refused');
    expect(gitFailureKind("remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'http://h:4040/x.git/'")).toBe('refused');
    expect(gitFailureKind("unable to access 'http://h:4404/x.git/': The requested URL returned error: 404")).toBe('not-found');
    expect(gitFailureKind("fatal: couldn't find remote ref refs/heads/nope")).toBe('missing-ref');
    expect(gitFailureKind("unable to access 'http://h:8080/group404/x.git/': Could not resolve host: h")).toBe('unreachable');
  });
});
