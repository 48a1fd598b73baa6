// One JSON call over HTTP for the prometheus and web providers: a timeout, a size cap, and errors that name
// the URL without its query string or credentials (a token in a query or header never reaches a message).

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface JsonCall {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface JsonAnswer {
  readonly status: number;
  /** The parsed body, or undefined when it was not JSON. */
  readonly json: unknown;
  /** The start of a body that was not JSON, for a message. */
  readonly text: string;
}

export async function callJson(call: JsonCall): Promise<JsonAnswer> {
  const where = describeUrl(call.url);
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = AbortSignal.any([call.signal, timeout]);
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method ?? 'GET',
      headers: { accept: 'application/json', ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
      signal,
      redirect: 'error',
    });
  } catch (error) {
    throw callError(error, where, call, timeout);
  }
  let text: string;
  try {
    text = await readCapped(response, where);
  } catch (error) {
    throw error instanceof TooLargeError ? error : callError(error, where, call, timeout);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text: text.slice(0, 200) };
}

/** `https://host:port/path`, without credentials, query or fragment. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(a bad URL)';
  }
}

/** An answer larger than we read: said as it is, not as a connection problem. */
class TooLargeError extends Error {}

async function readCapped(response: Response, where: string): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new TooLargeError(`${where} answered ${length} bytes, more than ${MAX_BODY_BYTES}`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new TooLargeError(`${where} answered more than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function callError(error: unknown, where: string, call: JsonCall, timeout: AbortSignal): Error {
  if (call.signal.aborted)
    return call.signal.reason instanceof Error ? call.signal.reason : new Error('aborted');
  if (timeout.aborted) return new Error(`${where} did not answer within ${call.timeoutMs}ms`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new Error(`${where} cannot be reached: ${why}`);
}
