import { Type } from 'typebox';
import type { EventTypeDefinition } from '../catalogue-types.ts';

const VSS = 'COVESA VSS 4';

/** ISO 3779 VIN: 17 characters, digits and capital letters except I, O and Q. */
export const VIN_PATTERN = '^[A-HJ-NPR-Z0-9]{17}$';

/** A COVESA VSS signal path: `Vehicle.` followed by dotted branch/leaf names. */
export const VSS_PATH_PATTERN = '^Vehicle(\\.[A-Za-z0-9_]+)+$';

const Id = Type.String({ minLength: 1 });
const Text = Type.String();
const Vin = Type.String({ pattern: VIN_PATTERN, description: 'ISO 3779 vehicle identification number' });

export const VEHICLE_TYPES: EventTypeDefinition[] = [
  {
    type: 'device.registered',
    version: 1,
    description: 'A device (OBD dongle, battery monitor, tracker) was registered, optionally to a customer, vehicle and part.',
    data: Type.Object({
      device_id: Id,
      kind: Type.Optional(Text),
      customer_id: Type.Optional(Text),
      vin: Type.Optional(Vin),
      part_sku: Type.Optional(Text),
      part_serial: Type.Optional(Text),
      firmware: Type.Optional(Text),
    }),
    example: {
      device_id: 'dev_bm12_00417',
      kind: 'battery_monitor',
      customer_id: 'cus_1042',
      vin: 'WVWZZZAUZHW123456',
      part_sku: 'BAT-AGM-70AH',
      part_serial: 'VA70-2025-118833',
      firmware: '2.4.1',
    },
  },
  {
    type: 'vehicle.signal',
    version: 1,
    description: 'One vehicle signal value, named by its COVESA VSS path (from MQTT telemetry).',
    standard: VSS,
    data: Type.Object({
      signal: Type.String({ pattern: VSS_PATH_PATTERN, description: 'COVESA VSS path' }),
      value: Type.Union([Type.Number(), Type.String(), Type.Boolean()]),
      unit: Type.Optional(Text),
      vin: Type.Optional(Vin),
      device_id: Type.Optional(Text),
    }),
    example: {
      signal: 'Vehicle.Powertrain.TractionBattery.StateOfHealth',
      value: 81.5,
      unit: 'percent',
      vin: '5YJ3E1EA7KF317000',
      device_id: 'dev_obd_88211',
    },
  },
];
