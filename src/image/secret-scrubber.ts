/**
 * Removes known secrets from text that leaves berth (log lines, error messages, engine error
 * text): each secret and the forms it travels in (JSON-escaped, URL-encoded, base64).
 */
import { MASKED } from '../shared/masked.js';

/** Shorter values would mangle ordinary words; GitLab itself masks only 8+ characters. */
const MIN_LENGTH = 3;

export class SecretScrubber {
  private readonly phrases: string[];

  constructor(secrets: Iterable<string>) {
    const all = new Set<string>();
    for (const s of secrets) {
      if (!s || s.trim().length < MIN_LENGTH) continue;
      for (const form of forms(s)) if (form.length >= MIN_LENGTH) all.add(form);
    }
    // Longest first, so that a secret containing another is removed whole.
    this.phrases = [...all].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const p of this.phrases) if (out.includes(p)) out = out.split(p).join(MASKED);
    return out;
  }

  /** The error's message, scrubbed. */
  scrubError(err: unknown): string {
    return this.scrub(err instanceof Error ? err.message : String(err));
  }
}

function forms(secret: string): string[] {
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    Buffer.from(secret, 'utf8').toString('base64'),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ];
}
