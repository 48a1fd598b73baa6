// A small Vault stand-in for tests. No Vault server can run here, so this node:http server follows Vault's
// documented KV v2 and AppRole APIs (developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2 and
// /auth/approle): `GET /v1/:mount/data/:path` answers { data: { data, metadata: { version, … } } }, a
// missing secret is 404 { errors: [] }, a deleted latest version is 404 with data.metadata.deletion_time, a
// token without access is 403 { errors: ["permission denied"] }, and `POST /v1/auth/approle/login` with
// { role_id, secret_id } answers { auth: { client_token, lease_duration } }. Real HTTP on loopback, no mocks.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeVault {
  readonly address: string;
  /** secrets by API path without /v1/, e.g. secret/data/web */
  readonly secrets: Map<string, { data: Record<string, unknown>; version: number; deleted?: boolean }>;
  /** tokens and the path prefixes each may read; namespace-qualified when `namespace` is set */
  readonly tokens: Map<string, string[]>;
  readonly requests: {
    method: string;
    url: string;
    token: string | undefined;
    namespace: string | undefined;
  }[];
  /** an HTTP status to answer every request with, to simulate outages */
  failWith: number | undefined;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString('utf8');
    });
    req.on('end', () => resolve(text));
  });
}

export async function startFakeVault(
  options: { roleId?: string; secretId?: string; namespace?: string } = {},
): Promise<FakeVault> {
  const secrets: FakeVault['secrets'] = new Map();
  const tokens: FakeVault['tokens'] = new Map();
  const requests: FakeVault['requests'] = [];
  let issued = 0;
  const state = { failWith: undefined as number | undefined };
  const server: Server = createServer(async (req, res) => {
    const token = req.headers['x-vault-token'] as string | undefined;
    const namespace = req.headers['x-vault-namespace'] as string | undefined;
    requests.push({ method: req.method ?? '', url: req.url ?? '', token, namespace });
    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (state.failWith !== undefined) return send(state.failWith, { errors: ['Vault is sealed'] });
    if (options.namespace !== undefined && namespace !== options.namespace)
      return send(403, { errors: ['permission denied'] });
    const url = req.url ?? '';
    if (req.method === 'POST' && url === '/v1/auth/approle/login') {
      const creds = JSON.parse((await body(req)) || '{}') as { role_id?: string; secret_id?: string };
      if (creds.role_id !== options.roleId || creds.secret_id !== options.secretId) {
        return send(400, { errors: [`invalid role or secret ID (${creds.secret_id})`] });
      }
      const clientToken = `hvs.approle${++issued}xxxxxxxxxxxx`;
      tokens.set(clientToken, ['secret/']);
      return send(200, {
        auth: { client_token: clientToken, lease_duration: 3600, renewable: true, policies: ['default'] },
      });
    }
    if (req.method !== 'GET' || !url.startsWith('/v1/')) return send(405, { errors: [] });
    const path = decodeURIComponent(url.slice(4));
    const allowed = token === undefined ? undefined : tokens.get(token);
    if (allowed === undefined || !allowed.some((p) => path.startsWith(p)))
      return send(403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    const secret = secrets.get(path);
    if (secret === undefined) return send(404, { errors: [] });
    const metadata = {
      created_time: '2024-01-01T00:00:00Z',
      custom_metadata: null,
      deletion_time: '',
      destroyed: false,
      version: secret.version,
    };
    if (secret.deleted === true)
      return send(404, {
        data: { data: null, metadata: { ...metadata, deletion_time: '2024-02-01T00:00:00Z' } },
      });
    return send(200, {
      request_id: 'r',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: { data: secret.data, metadata },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    secrets,
    tokens,
    requests,
    get failWith() {
      return state.failWith;
    },
    set failWith(v) {
      state.failWith = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
