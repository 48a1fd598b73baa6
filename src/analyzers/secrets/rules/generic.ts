// Generic credentials: a password, secret, token or key assigned a literal. These rules match broadly on
// purpose; the filters in ../generic.ts decide, value by value, what is a real credential.
import type { SecretRule } from '../rule.js';

/** `NAME <op> VALUE` where NAME contains one of `words`; the value quoted three ways or bare. */
function assignment(words: string): string {
  const op = String.raw`["'\]]{0,2}[ \t]{0,40}(?::=|=>|\|\|=|\?\?=|:|=)\s{0,5}`;
  const value =
    String.raw`(?:"([^"\r\n]{1,200})"|'([^'\r\n]{1,200})'|` +
    '`([^`\\r\\n]{1,200})`' +
    String.raw`|([^\s"'` +
    '`' +
    String.raw`,;#]{1,200})(?:[\s"'` +
    '`' +
    String.raw`,;#]|$))`;
  return String.raw`[\w.$/-]{0,40}(?:${words})[\w.$-]{0,30}${op}${value}`;
}

const GROUPS = [1, 2, 3, 4] as const;

export const GENERIC_RULES: readonly SecretRule[] = [
  {
    id: 'generic-password',
    description: 'Password assigned a literal',
    severity: 'high',
    confidence: 'medium',
    keywords: ['password', 'passwd', 'pwd', 'passphrase', 'passcode', '_pass'],
    pattern: assignment('password|passwd|pwd|passphrase|passcode|_pass'),
    caseInsensitive: true,
    secretGroups: GROUPS,
    generic: true,
    tags: ['generic'],
    examples: {
      positive: [
        'DB_PASSWORD=Tr0ub4dor&3x',
        'const adminPassword = "k9#Lm2$qWz7!";',
        'password: "hunter2-Zq8"',
      ],
      negative: [
        'password: ${DB_PASSWORD}',
        'const password = process.env.PASSWORD;',
        'password = "changeme"',
        'password_field = "user_password"',
        'if (password === "secret") {}',
        'DB_PASSWORD={{ .Values.db.password }}',
      ],
    },
  },
  {
    id: 'generic-secret',
    description: 'Secret assigned a literal',
    severity: 'high',
    confidence: 'medium',
    keywords: ['secret'],
    pattern: assignment('secret'),
    caseInsensitive: true,
    secretGroups: GROUPS,
    generic: true,
    tags: ['generic'],
    examples: {
      positive: [
        'client_secret = "8f3Kq0ZrV1mX9wLp2Tn6Yb4Hc7Ud5Es"',
        "SESSION_SECRET: 'q2W9eR7tY5uI3oP1aS8dF6gH'",
      ],
      negative: [
        'client_secret = os.environ["CLIENT_SECRET"]',
        'secret_name: my-app-secret',
        'secret: <your-secret>',
      ],
    },
  },
  {
    id: 'generic-token',
    description: 'Token assigned a literal',
    severity: 'high',
    confidence: 'medium',
    keywords: ['token'],
    pattern: assignment('token'),
    caseInsensitive: true,
    secretGroups: GROUPS,
    generic: true,
    tags: ['generic'],
    examples: {
      positive: [
        'auth_token = "e8Xq72LmN0pRtY5vW3zK9aB4cD6fG1hJ"',
        'REFRESH_TOKEN=5Zt9QwErTy8UiOp3AsDf7GhJk2Lz',
      ],
      negative: [
        'token_type = "Bearer"',
        'const token = getToken(req);',
        'tokenUrl: "https://login.example.com/token"',
      ],
    },
  },
  {
    id: 'generic-api-key',
    description: 'API or access key assigned a literal',
    severity: 'high',
    confidence: 'medium',
    keywords: [
      'shared_key',
      'sharedkey',
      'apikey',
      'api_key',
      'api-key',
      'accesskey',
      'access_key',
      'access-key',
      'secretkey',
      'secret_key',
      'privatekey',
      'private_key',
      'signingkey',
      'signing_key',
      'authkey',
      'auth_key',
      'clientkey',
      'client_key',
      'encryptionkey',
      'encryption_key',
      'masterkey',
      'master_key',
    ],
    pattern: assignment(
      'shared_key|sharedkey|apikey|api_key|api-key|accesskey|access_key|access-key|secretkey|secret_key|privatekey|private_key|signingkey|signing_key|authkey|auth_key|clientkey|client_key|encryptionkey|encryption_key|masterkey|master_key',
    ),
    caseInsensitive: true,
    secretGroups: GROUPS,
    generic: true,
    tags: ['generic'],
    examples: {
      positive: [
        'apiKey: "AIzq93Lk2Pq8Zr7Xt1Wv5Ym4Nb6Hc0Jd"',
        'SIGNING_KEY=0c4f7a9e2b8d1f6a3e5c9b7d2a4f8e1c',
      ],
      negative: ['api_key = config.get("api_key")', 'apiKeyHeader: "X-API-Key"', 'API_KEY=${API_KEY}'],
    },
  },
  {
    id: 'generic-credential',
    description: 'Credential assigned a literal',
    severity: 'high',
    confidence: 'medium',
    keywords: ['credential'],
    pattern: assignment('credentials?'),
    caseInsensitive: true,
    secretGroups: GROUPS,
    generic: true,
    tags: ['generic'],
    examples: {
      positive: ['SMTP_CREDENTIALS="mailer:Wq7#pL2zR9xK"'],
      negative: ['credentials: "include"', 'credentialsFile = "./creds.json"'],
    },
  },
];
