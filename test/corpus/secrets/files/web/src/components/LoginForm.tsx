import { useState } from 'react';
import { useTranslation } from 'react-i18next';

export function LoginForm({ onSubmit }: { onSubmit: (u: string, p: string) => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [confirmPassword, setConfirmPassword] = useState('');
  const passwordLabel = "Enter your password";
  const passwordPlaceholder = '••••••••';
  const passwordError = t('login.passwordTooShort');
  const tokenExpired = 'Session expired, please sign in again';
  const mismatch = password !== confirmPassword ? t('login.passwordMismatch') : null;
  return (
    <form onSubmit={() => onSubmit(username, password)}>
      <label htmlFor="username">{t('login.username')}</label>
      <input id="username" value={username} onChange={(e) => setUsername(e.target.value)} />
      <label htmlFor="password">{passwordLabel}</label>
      <input id="password" type="password" name="password" autoComplete="current-password" placeholder={passwordPlaceholder} />
      <input type="hidden" name="csrf_token" value="{{ csrf_token }}" />
      {mismatch && <p role="alert">{mismatch}</p>}
      {passwordError && <p>{passwordError}</p>}
      <p>{tokenExpired}</p>
    </form>
  );
}
