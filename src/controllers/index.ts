// Every controller, by MOM's name. A plain list: adding one is adding a line here.
import { createBalloonController } from './balloon.js';
import { createCgroupLimitController } from './cgroup-limit.js';
import type { Controller } from './controller.js';
import { createCpuTuneController } from './cpu-tune.js';
import { createIoTuneController } from './io-tune.js';
import { createKsmController } from './ksm.js';
import { createZswapController } from './zswap.js';
import { MomError } from '../errors.js';

export const CONTROLLERS: ReadonlyArray<{ readonly name: string; create(): Controller }> = [
  { name: 'Balloon', create: createBalloonController },
  { name: 'KSM', create: createKsmController },
  { name: 'Zswap', create: createZswapController },
  { name: 'CgroupLimit', create: createCgroupLimitController },
  { name: 'CpuTune', create: createCpuTuneController },
  { name: 'IoTune', create: createIoTuneController },
];

/** Fresh controllers for the configured names (case-insensitive); an unknown name is MOM_E_SETUP. */
export function createControllers(names: readonly string[]): Controller[] {
  return names.map((name) => {
    const f = CONTROLLERS.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (f === undefined) {
      throw new MomError(
        'MOM_E_SETUP',
        `unknown controller '${name}' (known: ${CONTROLLERS.map((c) => c.name).join(', ')})`,
      );
    }
    return f.create();
  });
}
