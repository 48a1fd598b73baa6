import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from './webhooks.js';

const SECRET = 'webhook-secret-for-tests';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BODY = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: COMMIT });

function hmac(body: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

describe('verifyWebhook', () => {
  it('accepts a GitHub push signed with the secret, with any header case', () => {
    const result = verifyWebhook({
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${hmac(BODY)}` },
      rawBody: Buffer.from(BODY),
      secret: SECRET,
    });
    expect(result).toEqual({
      ok: true,
      provider: 'github',
      event: 'push',
      ref: 'refs/heads/main',
      commit: COMMIT,
    });
  });

  it('accepts a Gitea push (which also sends X-Hub-Signature-256) by X-Gitea-Signature', () => {
    const result = verifyWebhook({
      headers: {
        'x-gitea-event': 'push',
        'x-gitea-signature': hmac(BODY),
        'x-hub-signature-256': 'sha256=ignored',
      },
      rawBody: BODY,
      secret: SECRET,
    });
    expect(result).toEqual({
      ok: true,
      provider: 'gitea',
      event: 'push',
      ref: 'refs/heads/main',
      commit: COMMIT,
    });
  });

  it('accepts a GitLab push by its token', () => {
    const result = verifyWebhook({
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': [SECRET] },
      rawBody: BODY,
      secret: SECRET,
    });
    expect(result).toEqual({
      ok: true,
      provider: 'gitlab',
      event: 'Push Hook',
      ref: 'refs/heads/main',
      commit: COMMIT,
    });
  });

  it.each([
    ['github', { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(BODY)}` }],
    ['gitea', { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(BODY) }],
  ])('rejects a tampered %s body', (provider, headers) => {
    const tampered = BODY.replace('main', 'evil');
    const result = verifyWebhook({ headers, rawBody: tampered, secret: SECRET });
    expect(result).toEqual({ ok: false, provider, reason: expect.stringMatching(/does not match/) });
  });

  it.each([
    [
      'github',
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(BODY, 'other')}` },
      /does not match/,
    ],
    ['gitea', { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(BODY, 'other') }, /does not match/],
    ['gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'other' }, /does not match/],
    ['gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': `${SECRET}x` }, /does not match/],
  ])('rejects the wrong secret (%s)', (provider, headers, reason) => {
    expect(verifyWebhook({ headers, rawBody: BODY, secret: SECRET })).toEqual({
      ok: false,
      provider,
      reason: expect.stringMatching(reason),
    });
  });

  it.each([
    [{ 'x-github-event': 'push' }, /missing X-Hub-Signature-256/],
    [{ 'x-gitea-event': 'push' }, /missing X-Gitea-Signature/],
    [{ 'x-gitlab-event': 'Push Hook' }, /missing X-Gitlab-Token/],
    [{ 'x-github-event': 'push', 'x-hub-signature-256': hmac(BODY) }, /sha256=<64 hex digits>/],
    [{ 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=abc' }, /sha256=<64 hex digits>/],
    [{ 'x-gitea-signature': 'zz' }, /not 64 hex digits/],
    [{ 'content-type': 'application/json' }, /not a GitHub, Gitea or GitLab webhook/],
  ])('rejects a missing or malformed signature: %j', (headers, reason) => {
    const result = verifyWebhook({ headers, rawBody: BODY, secret: SECRET });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('trusts nothing without a secret, and parses only a verified body', () => {
    const headers = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(BODY, '')}` };
    expect(verifyWebhook({ headers, rawBody: BODY, secret: '' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no webhook secret/),
    });
    const notJson = 'ref=main';
    expect(
      verifyWebhook({
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(notJson)}` },
        rawBody: notJson,
        secret: SECRET,
      }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
  });

  it('reads a ping and a branch deletion without a commit', () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.' });
    expect(
      verifyWebhook({
        headers: { 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${hmac(ping)}` },
        rawBody: ping,
        secret: SECRET,
      }),
    ).toEqual({ ok: true, provider: 'github', event: 'ping' });
    const deletion = JSON.stringify({ ref: 'refs/heads/old', after: '0'.repeat(40) });
    expect(
      verifyWebhook({
        headers: { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(deletion) },
        rawBody: deletion,
        secret: SECRET,
      }),
    ).toEqual({ ok: true, provider: 'gitea', event: 'push', ref: 'refs/heads/old' });
  });
});
