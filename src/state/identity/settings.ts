/** The config file's `detectors.identity` section, validated, with its defaults. */
import { AppError } from '../../core/index.ts';

export interface IdentitySettings {
  /** Identify traits whose value (a VIN or a list of VINs) links the customer to a vehicle ("my garage"). */
  vinTraits: readonly string[];
}

export const DEFAULT_IDENTITY_SETTINGS: IdentitySettings = { vinTraits: ['vin', 'garage_vin'] };

const KNOWN = ['vin_traits'];

const invalid = (field: string, what: string) => new AppError('PW_CONFIG_INVALID', `detectors.identity.${field}: ${what}`);

/** `undefined` → defaults; throws `PW_CONFIG_INVALID` naming the bad field. */
export function parseIdentitySettings(raw: unknown): IdentitySettings {
  if (raw === undefined || raw === null) return DEFAULT_IDENTITY_SETTINGS;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('PW_CONFIG_INVALID', 'detectors.identity: must be an object');
  const section = raw as Record<string, unknown>;
  for (const k of Object.keys(section)) if (!KNOWN.includes(k)) throw invalid(k, `unknown setting (known: ${KNOWN.join(', ')})`);
  const vinTraits = section.vin_traits;
  if (vinTraits === undefined) return DEFAULT_IDENTITY_SETTINGS;
  if (!Array.isArray(vinTraits) || !vinTraits.every((t) => typeof t === 'string' && t !== '' && t !== 'email'))
    throw invalid('vin_traits', 'must be a list of trait names (non-empty strings, not "email")');
  return { vinTraits: [...new Set(vinTraits as string[])] };
}
