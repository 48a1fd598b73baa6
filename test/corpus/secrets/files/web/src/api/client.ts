// @ts-nocheck: corpus file for the secret scanner tests, not compiled.
import axios from 'axios';

const API_BASE_URL = process.env.API_BASE_URL ?? 'https://api.acme-corp.net';
const apiKey = "yAvtywljiXpgaFtKdxWXJSCqvX4mPXJS";
const SERVICE_JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtd2ViIiwic2NvcGUiOiJpbnZvaWNlczpyZWFkIGludm9pY2VzOndyaXRlIiwiaWF0IjoxNzE0MDAwMDAwLCJleHAiOjIwMjkwMDAwMDB9.YNns3r_7pXwpOeXaQwdWFM80jn4rFldon1N0gLNVxvP';

export const client = axios.create({
  baseURL: API_BASE_URL,
  headers: { 'X-Api-Key': apiKey },
});

export function setToken(token: string): void {
  client.defaults.headers.common.Authorization = `Bearer ${token}`;
}

const refreshToken = localStorage.getItem('refresh_token');
const tokenType = 'Bearer';
const accessToken = await getAccessTokenSilently({ audience: API_BASE_URL });
export { refreshToken, tokenType, accessToken, SERVICE_JWT };
