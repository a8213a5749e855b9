import { describe, expect, it } from 'vitest';
import { isLocalEngine } from './engine-locality.js';

describe('isLocalEngine', () => {
  it('unix sockets, named pipes and socket paths are local', () => {
    expect(isLocalEngine('unix:///var/run/docker.sock')).toBe(true);
    expect(isLocalEngine('/var/run/docker.sock')).toBe(true);
    expect(isLocalEngine('npipe:////./pipe/docker_engine')).toBe(true);
  });

  it('tcp to a loopback address or localhost is local, with or without TLS or a port', () => {
    expect(isLocalEngine('tcp://127.0.0.1:2375')).toBe(true);
    expect(isLocalEngine('tcp://127.0.0.53:2376')).toBe(true);
    expect(isLocalEngine('tcp://localhost:2376')).toBe(true);
    expect(isLocalEngine('tcp://LOCALHOST')).toBe(true);
    expect(isLocalEngine('tcp://[::1]:2376')).toBe(true);
    expect(isLocalEngine('https://127.0.0.1:2376')).toBe(true);
  });

  it('any other tcp host is remote', () => {
    expect(isLocalEngine('tcp://10.212.0.2:2376')).toBe(false);
    expect(isLocalEngine('tcp://build-1:2376')).toBe(false);
    expect(isLocalEngine('tcp://192.168.1.10')).toBe(false);
    expect(isLocalEngine('tcp://[fd00::2]:2376')).toBe(false);
    expect(isLocalEngine('tcp://127.0.0.1.example.com:2376')).toBe(false);
    expect(isLocalEngine('tcp://localhost.example.com:2376')).toBe(false);
  });

  it('an engine of unknown address (a test double) keeps the direct dial; an unparsable one is remote', () => {
    expect(isLocalEngine(undefined)).toBe(true);
    expect(isLocalEngine('')).toBe(true);
    expect(isLocalEngine('tcp://')).toBe(false);
  });
});
