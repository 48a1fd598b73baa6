// @ts-nocheck: corpus file for the secret scanner tests, not compiled.
export const config = {
  apiToken: import.meta.env.VITE_API_TOKEN,
  sentryAuthToken: process.env.SENTRY_AUTH_TOKEN ?? '',
  passwordResetPath: '/account/password/reset',
  tokenRefreshMarginSeconds: 60,
};
