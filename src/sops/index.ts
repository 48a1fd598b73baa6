// Secrets in Git: SOPS files encrypted for age recipients, secret references in App specs, and a Vault KV v2
// client. This is the module's public API; the controller and the CLI import from here.
export {
  AgeIdentities,
  cliIdentities,
  generateKeyPair,
  isAgeRecipient,
  loadIdentity,
  parseRecipients,
} from './age.js';
export { type CreationRule, creationRuleFor, findSopsConfig, SOPS_CONFIG_FILE } from './config.js';
export {
  DEFAULT_MAX_FILE_BYTES,
  DecryptedDocument,
  type DecryptOptions,
  decryptDocument,
  type EncryptOptions,
  encryptDocument,
  isEncrypted,
} from './document.js';
export { SecretsError, type SecretsErrorReason } from './errors.js';
export {
  createSecretResolver,
  type EnvValue,
  envValuesOf,
  type FileSecretRef,
  hasSecretRefs,
  isSecretRef,
  type ResolveContext,
  type ResolvedEnv,
  type SecretRef,
  type SecretResolver,
  type SecretResolverOptions,
  type VaultSecretRef,
} from './resolver.js';
export { formatForPath, parseFormat, SOPS_FORMATS, type SopsFormat } from './stores/index.js';
export type { EncryptionRules } from './tree.js';
export {
  createVaultClient,
  kv2ApiPath,
  type VaultClient,
  type VaultClientOptions,
  type VaultSecret,
  vaultOptionsFromEnv,
} from './vault.js';
