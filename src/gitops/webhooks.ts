// Webhooks (pure): verify a push notification from GitHub, Gitea or GitLab against the shared secret, in
// constant time, and read the branch and commit it announces. Only a verified body is parsed.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';

export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookInput {
  /** The request headers, any case (Node's IncomingHttpHeaders are lower case). */
  readonly headers: WebhookHeaders;
  /** The body exactly as received: the signature covers these bytes, not a re-serialised object. */
  readonly rawBody: Buffer | string;
  readonly secret: string;
}

export type WebhookResult =
  | {
      readonly ok: true;
      readonly provider: WebhookProvider;
      /** The event name the forge sent (`push`, `ping`, `Push Hook`), when it sent one. */
      readonly event?: string;
      /** `refs/heads/main` for a push. */
      readonly ref?: string;
      /** The commit the ref now points at; absent for a branch deletion or a non-push event. */
      readonly commit?: string;
    }
  | { readonly ok: false; readonly reason: string; readonly provider?: WebhookProvider };

export function verifyWebhook(input: VerifyWebhookInput): WebhookResult {
  const header = (name: string): string | undefined => headerValue(input.headers, name);
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;

  let provider: WebhookProvider;
  let event: string | undefined;
  if (header('x-gitea-event') !== undefined || header('x-gitea-signature') !== undefined) {
    provider = 'gitea';
    event = header('x-gitea-event');
  } else if (header('x-gitlab-event') !== undefined || header('x-gitlab-token') !== undefined) {
    provider = 'gitlab';
    event = header('x-gitlab-event');
  } else if (header('x-github-event') !== undefined || header('x-hub-signature-256') !== undefined) {
    provider = 'github';
    event = header('x-github-event');
  } else {
    return {
      ok: false,
      reason:
        'not a GitHub, Gitea or GitLab webhook: no X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token',
    };
  }
  if (input.secret === '') {
    return { ok: false, provider, reason: 'no webhook secret is configured, so no webhook can be trusted' };
  }

  const failure = checkSignature(provider, header, body, input.secret);
  if (failure !== undefined) return { ok: false, provider, reason: failure };

  let payload: unknown;
  try {
    payload = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, provider, reason: 'the signature is valid but the body is not JSON' };
  }
  const record = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  const ref = typeof record.ref === 'string' ? record.ref : undefined;
  const after = typeof record.after === 'string' ? record.after : undefined;
  const commit = after !== undefined && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(after) && !/^0+$/.test(after);
  return {
    ok: true,
    provider,
    ...(event === undefined ? {} : { event }),
    ...(ref === undefined ? {} : { ref }),
    ...(commit ? { commit: (after as string).toLowerCase() } : {}),
  };
}

/** Undefined when the request is signed with `secret`; otherwise why not. */
function checkSignature(
  provider: WebhookProvider,
  header: (name: string) => string | undefined,
  body: Buffer,
  secret: string,
): string | undefined {
  if (provider === 'gitlab') {
    const token = header('x-gitlab-token');
    if (token === undefined) return 'missing X-Gitlab-Token header';
    // Hash both sides so the comparison takes the same time whatever the lengths.
    const a = createHash('sha256').update(token, 'utf8').digest();
    const b = createHash('sha256').update(secret, 'utf8').digest();
    return timingSafeEqual(a, b) ? undefined : 'X-Gitlab-Token does not match the secret';
  }
  const name = provider === 'github' ? 'X-Hub-Signature-256' : 'X-Gitea-Signature';
  const value = header(name.toLowerCase());
  if (value === undefined) return `missing ${name} header`;
  const hex = provider === 'github' ? /^sha256=([0-9a-f]{64})$/i.exec(value.trim())?.[1] : value.trim();
  if (hex === undefined || !/^[0-9a-f]{64}$/i.test(hex)) {
    return provider === 'github'
      ? `${name} is not of the form sha256=<64 hex digits>`
      : `${name} is not 64 hex digits`;
  }
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? undefined
    : `${name} does not match the body signed with the secret`;
}

/** A header by case-insensitive name; the first value of a repeated header. */
function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = typeof value === 'string' ? value : value?.[0];
    if (first !== undefined) return first;
  }
  return undefined;
}
