export { checkDevicePassword, createDevice, DEVICE_ID_PATTERN, listDevices, revokeDevice } from './devices.ts';
export {
  type ApiKey,
  createKey,
  hashSecret,
  KeyAuthenticator,
  listKeys,
  parseScopes,
  publishableOrigins,
  revokeKey,
  SCOPES,
  type Scope,
} from './keys.ts';
