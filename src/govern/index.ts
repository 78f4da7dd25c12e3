export { checkDevicePassword, createDevice, DEVICE_ID_PATTERN, listDevices, revokeDevice } from './devices.ts';
export {
  type ApiKey,
  createKey,
  hashSecret,
  KeyAuthenticator,
  keyById,
  listKeys,
  parseScopes,
  publishableOrigins,
  revokeKey,
  SCOPES,
  type Scope,
} from './keys.ts';
export { CSRF_HEADER, csrfMatches, SESSION_COOKIE, type Session, type SessionOptions, SessionStore } from './sessions.ts';
