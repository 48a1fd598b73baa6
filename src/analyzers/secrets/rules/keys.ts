// Private keys of every PEM and OpenSSH kind, PGP and PuTTY keys, JWTs, and URLs that carry a password.
import type { SecretRule } from '../rule.js';

/**
 * What a PEM body may hold: base64 lines, RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`), armor headers
 * (`Version: GnuPG v2 (GNU/Linux)`) and `\n` escapes when the key sits inside a JSON or .env string.
 */
const PEM_BODY = String.raw`[-A-Za-z0-9+/=\s:,.()\\]`;

/** A PEM block whose BEGIN and END lines carry `label`, with at least 64 characters between them. */
function pem(label: string): string {
  return `-----BEGIN ${label}-----${PEM_BODY}{64,}?-----END ${label}-----`;
}

/** The user part of a URL's userinfo, then the password (group 1): neither may hold URL delimiters or quotes. */
const USERINFO = String.raw`[^:@/?#\s"'\x60<>{}\[\]]{0,100}:([^@/?#\s"'\x60<>{}]{1,200})@[^\s/?#@"'\x60]`;

/** Passwords in URLs that are placeholders or variable references, not credentials. */
const URL_PASSWORD_ALLOW = {
  regexes: [
    String.raw`^\$[A-Za-z_][A-Za-z0-9_]*$`,
    String.raw`^%\([\w.]+\)s$`,
    String.raw`^(?:[Pp]ass(?:word)?|PASS(?:WORD)?|[Pp]asswd|PASSWD|[Pp]wd|PWD|[Ss]ecret|SECRET|xxx+|XXX+|\*+|\.\.\.+|_+)$`,
    String.raw`^(?:[Tt]est(?:ing|123)?|TEST|[Gg]uest|GUEST|[Uu]ser(?:name)?|USER|[Dd]efault|DEFAULT|[Pp]assword123|[Ss]ecret123)$`,
  ],
  stopwords: [
    'changeme',
    'change_me',
    'example',
    'placeholder',
    'your_',
    'your-',
    'yourpassword',
    'redacted',
    'dummy',
  ],
};

/** A database URL rule: `scheme` is a regex for the URL scheme, which holds one of `keywords`. */
function databaseUrl(
  id: string,
  description: string,
  scheme: string,
  keywords: string[],
  examples: SecretRule['examples'],
): SecretRule {
  return {
    id,
    description,
    severity: 'high',
    confidence: 'high',
    keywords,
    pattern: String.raw`\b${scheme}(?:\+[a-z0-9]+)?://${USERINFO}`,
    caseInsensitive: true,
    secretGroups: [1],
    allow: URL_PASSWORD_ALLOW,
    tags: ['database', 'connection-string'],
    examples,
  };
}

export const KEY_RULES: readonly SecretRule[] = [
  // ── Private keys ─────────────────────────────────────────────────────────────────────────────────────
  {
    id: 'private-key-rsa',
    description: 'RSA private key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin rsa private key'],
    pattern: pem('RSA PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAAO7TeHshG0zKA7GLPgB7OihqSDnDCHszp5HAQK4RB2A+nohF\ncuSRSsOM7RPdLyaUgziyul75t/YI05Xe70+PgU7QSBRXcJfhY1flEGY8oavg7vdq\nqNjZ2WNGx9DT2wczR7K7aUkDkbIP+5/M0UGeBYcC9llAXCUECtsUYfonPE038Evb\nrC0Efoeuzy9Ku/MdbnKeDUOtcQ5PmKMmAhSGdeOcIUGwlG6U7VmwRvx18qY7M4sq\nuYr2/BnSvJOdQmO0MkJFlaWQ+6db14==\n-----END RSA PRIVATE KEY-----\n',
        'key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  Proc-Type: 4,ENCRYPTED\n  DEK-Info: AES-128-CBC,3AD93F37782AD679EE933E4F347EC929\n\n  soa80bu65AqT92/XXCK2acMipuvDL/1XjN1KWYYcVKO8i/PxsfJiIW99D5cfVAcs\n  RzdN2W4QlMphBX5nKXg/+ViMymMtvg9ROEEtQYHuXNoc9EcCAFXWD+7Dh3Fdq2GI\n  -----END RSA PRIVATE KEY-----\n',
      ],
      negative: [
        "if (pem.startsWith('-----BEGIN RSA PRIVATE KEY-----')) return 'pkcs1';",
        '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
        '-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA80+6bd2mPSrBLkxIQZGnvxW3Up8T3WtVSn5e53qQ/uxo3/FR7Hxi\nC2uGdekJUazEMdNY1wBtpylrpFrZEtgkESQwzaRdhXClGdUOu/GdvFP5hW834GOP\n-----END RSA PUBLIC KEY-----',
      ],
    },
  },
  {
    id: 'private-key-dsa',
    description: 'DSA private key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin dsa private key'],
    pattern: pem('DSA PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQ8GuKjtu9P0vn/KhRNCsf+4AUB9dSBk/eBT9cJywvIAlPWdYeEY\npJBHveJvgLdsQavG53ICyFEw4S37VbYvFYR5LWtiHTjg+OqC/2JR1UPxcWyDA35W\n1Y88RXdz0cJ276MlCmYXJNP6j6ziarZSYFlQCSpQpOOFrxIiSBHZofTM5f8vqVrJ\n-----END DSA PRIVATE KEY-----',
      ],
      negative: ['-----BEGIN DSA PRIVATE KEY-----\nxxxx\n-----END DSA PRIVATE KEY-----'],
    },
  },
  {
    id: 'private-key-ec',
    description: 'EC private key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin ec private key'],
    pattern: pem('EC PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI7yOwEcw6QuSgmpDegClIquQH8OsUju8ruVblw4iRG/aCqkf4gIY2nf2\ni/4nJLIqgs0A2Tv7H6uVep6v9dU27IOqaJ65GuSlPHCaMnp5+Zbqbl9D8WrE1fLv\nMV0WSveQl/CFVoYVwoQVxtHy==\n-----END EC PRIVATE KEY-----',
      ],
      negative: ['-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----'],
    },
  },
  {
    id: 'private-key-openssh',
    description: 'OpenSSH private key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin openssh private key'],
    pattern: pem('OPENSSH PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key', 'ssh'],
    examples: {
      positive: [
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nBX+y38fPO12zbKoo8Ix3I4fNs8t+b3Cpv01kBGaPwsVlMQFi+Gy9S0TK7cGwIw3NWmmCZk\n6dZITQ3zUcIMlWyTr73GOPiVjN10F7TdhIBtqsrUhqZZ4Zl+pr1pEuTZLtHkDj3OgiY5ck\nRe2NLmb2+Awuxcr0JKsmS8nDBU8NeP5623TWYGp0YIjf/Lmug1mXF5jJo2yk3DKx37Dkps\nmnY48S7XA1DcWoJBW/as=\n-----END OPENSSH PRIVATE KEY-----\n',
      ],
      negative: [
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIadnSYtcgxAGF9oL5c5QbDrp3yVl0ck7UWKjG86/Web8 deploy@acme',
        'grep -q "BEGIN OPENSSH PRIVATE KEY" ~/.ssh/id_ed25519',
      ],
    },
  },
  {
    id: 'private-key-encrypted',
    description: 'Encrypted PKCS#8 private key',
    severity: 'high',
    confidence: 'high',
    keywords: ['begin encrypted private key'],
    pattern: pem('ENCRYPTED PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQIvfl/p4Imm1R356W5\nbEl6ZVhvAzgnPjfOmw+HUCrYBGWIQnc5UwIeykyD/bkEcl3p70aaL+sth3JAAz0Q\nGO7A53EuHimJ2R1TkrNPdZZ1W8Xt58wXYppdgZNmB+sXS4VG1imDAu3QL2k9EUsk\n-----END ENCRYPTED PRIVATE KEY-----',
      ],
      negative: ['const marker = "-----BEGIN ENCRYPTED PRIVATE KEY-----";'],
    },
  },
  {
    id: 'private-key-pkcs8',
    description: 'PKCS#8 private key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin private key'],
    pattern: pem('PRIVATE KEY'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCUZdy0/woraUUEFTvGHX6TgGzdsrb6wbK\nsMVCHIHGDfXa9HYnKz0RMQ79tZ0xpu0akHPXu9+qa9WeVumpS8SybgAElqFuL132\nIzUiZZBm+jayMKABdvhCxw5PQyg8JNEXxxgHseo9MENWEaF88qBNc+B44XgjGug4\npMOz5vnaReV1Jnipc+pIqvLYdpS0zgin+0LSt7wJ\n-----END PRIVATE KEY-----',
        String.raw`TLS_KEY="-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIWyzClozk+YIyPTa679eTtLAeb7CfvCb5wbjRihFGitE\nNLqt971a8qNSb3/qUXkfm72xkNEZBF6UL4p3QeMs\n-----END PRIVATE KEY-----\n"`,
      ],
      negative: [
        '-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----',
        '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE4efXXtKzG0p/+y2xvhHnX1axt8erLubkpxa49zTArdQP\nHmNGafBSbVuc5pMAadKA31BuVTm+hsd5MXxgt5t7IJHvt0+xaiteB7MjOmbAOmyH\n-----END CERTIFICATE-----',
      ],
    },
  },
  {
    id: 'private-key-other',
    description: 'Private key (other PEM kinds: ANY, ECDSA, Ed25519, X25519, DH, …)',
    severity: 'critical',
    confidence: 'high',
    keywords: [
      'begin any private key',
      'begin ecdsa private key',
      'begin ed25519 private key',
      'begin ed448 private key',
      'begin x25519 private key',
      'begin x448 private key',
      'begin dh private key',
      'begin sm2 private key',
      'begin ssh2 private key',
    ],
    pattern: String.raw`-----BEGIN (?:ANY|ECDSA|ED25519|ED448|X25519|X448|DH|SM2|SSH2) PRIVATE KEY-----${PEM_BODY}{64,}?-----END (?:ANY|ECDSA|ED25519|ED448|X25519|X448|DH|SM2|SSH2) PRIVATE KEY-----`,
    multiline: true,
    entropy: 3.5,
    tags: ['private-key'],
    examples: {
      positive: [
        '-----BEGIN ANY PRIVATE KEY-----\nMIIEvAIBADANBgkqhkiG9w0BAQEFAASCqdzxPdxVOgtDJoxMhOdMIelXfdHUOhwK\n5iUZv2uoKw794b0YEB6zzfpEYSTlFNSW0kB/QPb32uxpUnsTu5FJUmM20H8JFWcw\nwPZafp/1UU/5zPzA9pI6UAl5XKWBz5OF\n-----END ANY PRIVATE KEY-----',
      ],
      negative: ['-----BEGIN ANY PRIVATE KEY-----\n-----END ANY PRIVATE KEY-----'],
    },
  },
  {
    id: 'private-key-ssh2-encrypted',
    description: 'SSH2 (ssh.com) encrypted private key',
    severity: 'high',
    confidence: 'high',
    keywords: ['begin ssh2 encrypted private key'],
    pattern: String.raw`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----[-A-Za-z0-9+/=\s:,.()\\"]{64,}?---- END SSH2 ENCRYPTED PRIVATE KEY ----`,
    multiline: true,
    entropy: 3.5,
    tags: ['private-key', 'ssh'],
    examples: {
      positive: [
        '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa-key-20240101"\nP2/56wAAAPiSKpRi14lwE+TAhFLV+q+/32zu6M6RQ1/YZcBYaT6jSq0ZEUJbhEQBgpNmnV\n5C0qoh2XcslELFH6e7a4hzS6pFb6bRLsIShTQOGMA2KEDOQPpSAOPV6pT1eNr74q\neryxu8TW8/PhJRXO7medFeWZuPVSeM/j0c6F1K+VyoJI4kweQxFwsTosF7ISeLDX\n---- END SSH2 ENCRYPTED PRIVATE KEY ----',
      ],
      negative: [
        '---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3NzaC1yc2EcgtggiARS521K1Tt2HLcWvSng3mx4x/8sP2ezT0DNgnN2IlBemd7TiHDQiJ3\n---- END SSH2 PUBLIC KEY ----',
      ],
    },
  },
  {
    id: 'private-key-pgp',
    description: 'PGP private key block',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin pgp private key block'],
    pattern: pem('PGP PRIVATE KEY BLOCK'),
    multiline: true,
    entropy: 3.5,
    tags: ['private-key', 'pgp'],
    examples: {
      positive: [
        '-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2.0.22 (GNU/Linux)\n\nlQOYBF5irDuxxGKrgppWUPmtV6t6btIzsC8NkMB1+aIa+9jqJUwmlqwyEeN5A92i\nyNs0D/4ZPWVj0PSwKKF18PBXz22D+UvaVl0JXCj2rETX4Mx9vvYFLZd/rldlKa+H\nno+Alp6CNApfJWM2GUjX2nUoclZBx/8J8Oc0eb/nH1adMDh3Y3NIGw+P/+x7UVXI\n=vG3p\n-----END PGP PRIVATE KEY BLOCK-----',
      ],
      negative: [
        '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBFQAFxdSBkDX4Oh1i4isZn4Ewm3o2NgXp0zn0NDai/5/WwC6YU9PZ84xjMca\nopQ3ShLbPBAtaZGFV+JJ8dAQ8tfiJ4tEqgLfC3bg4C6J1G4mJg9kp/G8pi7/gtWX\n-----END PGP PUBLIC KEY BLOCK-----',
      ],
    },
  },
  {
    id: 'private-key-putty',
    description: 'PuTTY private key (PPK)',
    severity: 'critical',
    confidence: 'high',
    keywords: ['putty-user-key-file-'],
    pattern: String.raw`PuTTY-User-Key-File-[23]:[\s\S]{0,1500}?Private-Lines:\s{0,5}\d{1,3}\s+[A-Za-z0-9+/=\s]{40,}?Private-MAC:\s{0,5}[0-9a-f]{40,64}`,
    multiline: true,
    entropy: 3.5,
    tags: ['private-key', 'ssh'],
    examples: {
      positive: [
        'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ed25519-key-20240101\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIXiwtfro3XD6tSz/L0xBqN6gqcsmlYRpMmk8Ke1e\nzQ0PmvON\nPrivate-Lines: 1\nAAAAIoPwIiSQ0BIcQxwJ++d2p27HSFHn0U5WgvWoS3sF85R1\nPrivate-MAC: 4355db420068a4efb5b22204569c7a078d2285ae639acd444af7ab6c63493004\n',
      ],
      negative: ['PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: see docs'],
    },
  },
  {
    id: 'openvpn-static-key',
    description: 'OpenVPN static key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['begin openvpn static key'],
    pattern: String.raw`-----BEGIN OpenVPN Static key V1-----[0-9a-f\s]{256,}?-----END OpenVPN Static key V1-----`,
    multiline: true,
    entropy: 3,
    tags: ['private-key', 'vpn'],
    examples: {
      positive: [
        '<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\nef1b26add02ff974c24f71538d8f8d20\n72e0af59a9037fb616324c43953d092a\n17183e41cea20066ce09e89b30d5d9f0\n51142f412ffd79276c542aab8dce3e42\nc57253524948cfde929751b0dd8f0405\n1507ca37c5347625c665f05d9edb6de9\nbe4b61e219ddedb4a56fd647733f601b\n34daf76354e36e11af9ddce862ce8867\n78b4f4dce660d7fab690bf3f9a53ea24\nffd9fa7d52b5f9646f8d86237a504f06\nfe2052a3c04f0da063946e866a57b87f\naf8e1668c8013245f4ac0628def0e32e\nef50d640c0dda95d6af48db8d4dd2653\na5e4926e8a715bd4fbffaac52f2f12d8\n2d1831dae63de4065406518b78b35663\n5d279ad92847b6df9b3f6d37d1f4ddb2\n-----END OpenVPN Static key V1-----\n</tls-auth>',
      ],
      negative: [
        'tls-auth ta.key 1',
        '-----BEGIN OpenVPN Static key V1-----\n3d1b4a83616de1ef63a4fd594a1ac11d\n-----END OpenVPN Static key V1-----',
      ],
    },
  },
  {
    id: 'age-secret-key',
    description: 'age secret key',
    severity: 'critical',
    confidence: 'high',
    keywords: ['age-secret-key-1'],
    pattern: String.raw`\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b`,
    secretGroups: [1],
    entropy: 3.5,
    tags: ['private-key', 'provider:age'],
    examples: {
      positive: [
        '# created: 2024-01-01T00:00:00Z\n# public key: age1nf50yuj79jadwlc347hn8sza3ac4v2c4hz0luhflym4v0dmxagtps4xsjp\nAGE-SECRET-KEY-1Y8NHED74DU6DJ9E5AFFDPUUWHFPS5F5076EC0KMF6NC3DE3NLDHR5W0NP4',
      ],
      negative: ['AGE-SECRET-KEY-1EA3ZX667N9JDTLXSAHYLKYEUMF9PFCC9PWU5HAPE', 'AGE-SECRET-KEY-1...'],
    },
  },

  // ── Tokens ───────────────────────────────────────────────────────────────────────────────────────────
  {
    id: 'jwt',
    description: 'JSON Web Token',
    severity: 'medium',
    confidence: 'medium',
    keywords: ['eyj'],
    pattern: String.raw`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})(?:[^A-Za-z0-9_-]|$)`,
    secretGroups: [1],
    entropy: 3.5,
    allow: {
      // The sample token on jwt.io and in countless tutorials.
      stopwords: ['SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'],
    },
    tags: ['jwt'],
    examples: {
      positive: [
        'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJHI99VXCDJq3agHxlVYC-k2a0GhSWaEv2SUTuqVo_cifmBezGfas30fNtNsIdfQ_Fy2n009sULhLxQjvkRA4yzUMxXX.b6lXTRnjMARkorvOHdcYHKLkCbJ1ybURn8OTT8OEdZo',
        'SERVICE_ROLE_KEY=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOibx91iaYk2KTwlRa4iy7UBF79zQWY_O84QuchZf1Z8n_sXJdGYDiUJxD4OQBbZQG6LMM2KBfUtj2hOcoscj7HYWX8JXhJchxdDsKtPeiIM1xzEK7PYHyKDP-a.7Myb10D_zagZvGNxx8G6-QHj7hvEnmbLUW-s37tbaSu',
      ],
      negative: [
        'token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"',
        'token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0."',
        'const header = "eyJhbGciOiJIUzI1NiJ9";',
      ],
    },
  },

  // ── URLs with passwords ─────────────────────────────────────────────────────────────────────────────
  databaseUrl(
    'postgres-url-password',
    'PostgreSQL connection URL with password',
    '(?:postgres|postgresql)',
    ['postgres'],
    {
      positive: [
        'DATABASE_URL=postgres://app:6rUgTq239nPhJn4rJFDwh9HA@db.internal:5432/app?sslmode=require',
        'SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://etl:Fh1pLQ07A1yd5mnL@10.0.3.12/warehouse"',
      ],
      negative: [
        'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
        'DATABASE_URL=postgres://app:$DB_PASSWORD@db:5432/app',
        'DATABASE_URL=postgres://localhost:5432/app',
        'DATABASE_URL=postgres://app@db:5432/app',
        'DATABASE_URL=postgresql://user:password@localhost/app',
        'DATABASE_URL=postgresql://<user>:<password>@<host>/<db>',
        'os.environ.setdefault("DATABASE_URL", "postgres://test:test@localhost:5432/test")',
      ],
    },
  ),
  databaseUrl(
    'mysql-url-password',
    'MySQL / MariaDB connection URL with password',
    '(?:mysqlx?|mariadb)',
    ['mysql', 'mariadb'],
    {
      positive: [
        'DATABASE_URL="mysql://shop:zPeyqXq4QJrqMfQ8BkyV@mysql.acme.internal:3306/shop"',
        'url: mariadb://root:4ClH8KZ0aknmsw@127.0.0.1/app',
      ],
      negative: [
        'DATABASE_URL="mysql://shop:changeme@localhost/shop"',
        'DATABASE_URL="mysql://shop@localhost/shop"',
      ],
    },
  ),
  databaseUrl(
    'mongodb-url-password',
    'MongoDB connection URL with password',
    'mongodb(?:\\+srv)?',
    ['mongodb'],
    {
      positive: [
        'MONGO_URI=mongodb+srv://api:iak38730IgSORKB9Oz@cluster0.ab1cd.mongodb.net/prod?retryWrites=true&w=majority',
        'mongodb://admin:9rkNwYKHodSZPDzlyVXzWh@mongo-0.mongo:27017,mongo-1.mongo:27017/admin?replicaSet=rs0',
      ],
      negative: [
        'MONGO_URI=mongodb+srv://api:<password>@cluster0.ab1cd.mongodb.net/prod',
        'MONGO_URI=mongodb://localhost:27017/prod',
      ],
    },
  ),
  databaseUrl('redis-url-password', 'Redis connection URL with password', 'rediss?', ['redis'], {
    positive: [
      'REDIS_URL=redis://:CLir32T40DJRfIXGOYrbIdbGQ0supT4r@redis.acme.internal:6379/0',
      'REDIS_URL=rediss://default:rWQD0AXeQzPtZdLYOaNmrbK1acqvfjAU@cache.acme.io:6380',
    ],
    negative: ['REDIS_URL=redis://localhost:6379/0', 'REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379'],
  }),
  databaseUrl('amqp-url-password', 'AMQP (RabbitMQ) connection URL with password', 'amqps?', ['amqp'], {
    positive: ['BROKER_URL=amqp://worker:fBtIuBdSbKpEztJ1Xy5f@rabbitmq.acme.internal:5672/prod'],
    negative: ['BROKER_URL=amqp://guest:***@localhost:5672//', 'BROKER_URL=amqp://localhost:5672'],
  }),
  databaseUrl(
    'mssql-url-password',
    'SQL Server connection URL with password',
    '(?:mssql|sqlserver)',
    ['mssql', 'sqlserver'],
    {
      positive: [
        'DATABASE_URL=mssql://sa:slv8kodozdpD3evHPF7T@sql.acme.internal:1433/orders',
        'sqlserver://svc_reports:RHT0imNgmLpdrllh@10.1.2.3?database=reports',
      ],
      negative: [
        'DATABASE_URL=mssql://sa:%(password)s@sql:1433/orders',
        'DATABASE_URL=sqlserver://sql.acme.internal:1433',
      ],
    },
  ),
  {
    id: 'jdbc-url-password',
    description: 'JDBC URL with password',
    severity: 'high',
    confidence: 'high',
    keywords: ['jdbc:'],
    pattern: String.raw`\bjdbc:(?:oracle:thin:[^/\s"'\x60@:]{1,100}/([^@\s"'\x60/<>{}]{1,200})@|[a-z0-9]+:[^\s"'\x60]{0,300}?[?&;:]password=([^&;\s"'\x60<>{}]{1,200})(?:[&;\s"'\x60]|$))`,
    caseInsensitive: true,
    secretGroups: [1, 2],
    allow: URL_PASSWORD_ALLOW,
    tags: ['database', 'connection-string'],
    examples: {
      positive: [
        'spring.datasource.url=jdbc:sqlserver://sql.acme.internal:1433;databaseName=orders;user=app;password=V47ItUkE7FjhL9k9Vb;encrypt=true',
        'url = "jdbc:postgresql://db:5432/app?user=app&password=v1RV4BWnZLxyLabx"',
        'jdbc:oracle:thin:scott/4HGsf40IVIUR@db.acme.internal:1521/ORCL',
      ],
      negative: [
        'spring.datasource.url=jdbc:postgresql://db:5432/app',
        'url = "jdbc:mysql://db/app?user=app&password=${DB_PASSWORD}"',
      ],
    },
  },
  {
    id: 'basic-auth-url',
    description: 'URL with embedded credentials',
    severity: 'high',
    confidence: 'medium',
    keywords: ['://'],
    pattern: String.raw`\b[a-z][a-z0-9+.-]{1,30}://[^:@/?#\s"'\x60<>{}\[\]]{1,100}:([^@/?#\s"'\x60<>{}]{1,200})@[^\s/?#@"'\x60]`,
    caseInsensitive: true,
    secretGroups: [1],
    // Weak throw-away passwords (`u:p@`, `foo:bar@`) are what URL documentation and parser tests are full of.
    entropy: 2.5,
    allow: {
      regexes: [...URL_PASSWORD_ALLOW.regexes, String.raw`^\d{1,5}$`],
      stopwords: URL_PASSWORD_ALLOW.stopwords,
    },
    tags: ['url', 'basic-auth'],
    examples: {
      positive: [
        'git clone https://deploy:WUX3Ny8Urgo0CgbRkzQU@git.acme.internal/platform/infra.git',
        'proxy = "http://svc-proxy:ktOeOPK8fA4DLw@proxy.acme.internal:3128"',
        'ftp://backup:i3dMsTPlwhke@files.acme.io/nightly/',
      ],
      negative: [
        'https://user:${TOKEN}@github.com/acme/app.git',
        'https://docs.acme.io:8443/guide',
        'https://user@github.com/acme/app.git',
        'https://user:password@example.com/',
        'mailto:ops@acme.io',
        'const proxy = new URL("http://foo:bar@localhost/");',
        'help="Specify a proxy in the form scheme://[user:passwd@]proxy.server:port."',
      ],
    },
  },
];
