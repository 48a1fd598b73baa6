package crypto

import "strings"

const (
	rsaPrivateKeyHeader = "-----BEGIN RSA PRIVATE KEY-----"
	rsaPrivateKeyFooter = "-----END RSA PRIVATE KEY-----"
)

// IsRSAKey reports whether s holds a PKCS#1 private key.
func IsRSAKey(s string) bool {
	return strings.HasPrefix(s, rsaPrivateKeyHeader) && strings.Contains(s, rsaPrivateKeyFooter)
}
