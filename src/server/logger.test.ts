// The logger: JSON lines, secrets redacted, child loggers bound to environment, app and revision.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, scopedLogger } from './logger.js';

/** A destination that keeps each JSON line, parsed. */
function capture(): { stream: Writable; lines: Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    get lines() {
      return chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => chunks.join(''),
  };
}

describe('createLogger', () => {
  it('redacts the authorization header and other secrets wherever they are logged', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', destination: out.stream });
    logger.info(
      { req: { headers: { authorization: 'Bearer plb_secret1', cookie: 'session=plb_secret2', host: 'x' } } },
      'incoming',
    );
    logger.info({ headers: { authorization: 'Bearer plb_secret3' }, token: 'plb_secret4' }, 'other');
    logger.info({ created: { token: 'plb_secret5', id: 't1' } }, 'nested');
    expect(out.text()).not.toMatch(/plb_secret/);
    const [first, second, third] = out.lines;
    expect(first).toMatchObject({
      msg: 'incoming',
      req: { headers: { authorization: REDACTED, host: 'x' } },
    });
    expect(second).toMatchObject({ headers: { authorization: REDACTED }, token: REDACTED });
    expect(third).toMatchObject({ created: { token: REDACTED, id: 't1' } });
  });

  it('writes JSON lines with an ISO time, level and message; level filters', () => {
    const out = capture();
    const logger = createLogger({ level: 'warn', destination: out.stream });
    logger.info('hidden');
    logger.warn({ attempt: 2 }, 'retrying');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 40, msg: 'retrying', attempt: 2, service: 'plumbline' });
    expect(String(out.lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('falls back to JSON on stdout when pretty is asked for but stdout is not a terminal', () => {
    const logger = createLogger({ pretty: true, level: 'silent' });
    expect(logger.level).toBe('silent');
  });
});

describe('scopedLogger', () => {
  it('binds only the given environment, app and revision to every line', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    scopedLogger(logger, { environment: 'prod', app: 'web', revision: 'abc123' }).info('applied');
    scopedLogger(logger, { environment: 'dev' }).info('planned');
    expect(out.lines[0]).toMatchObject({
      environment: 'prod',
      app: 'web',
      revision: 'abc123',
      msg: 'applied',
    });
    expect(out.lines[1]).toMatchObject({ environment: 'dev', msg: 'planned' });
    expect(out.lines[1]).not.toHaveProperty('app');
  });
});
