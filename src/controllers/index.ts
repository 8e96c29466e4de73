// Every controller, by MOM's name.
import { createBalloonController } from './balloon.js';
import type { Controller } from './controller.js';
import { createCgroupLimitController } from './cgroup-limit.js';
import { createKsmController } from './ksm.js';
import type { BalloonWatch } from '../engine/balloon-watch.js';

/** Engine services a controller may use. */
export interface ControllerContext {
  readonly balloonWatch?: BalloonWatch;
}

const FACTORIES: ReadonlyArray<{ name: string; create: (ctx: ControllerContext) => Controller }> = [
  { name: 'Balloon', create: (ctx) => createBalloonController(ctx.balloonWatch) },
  { name: 'KSM', create: () => createKsmController() },
  { name: 'CgroupLimit', create: () => createCgroupLimitController() },
];

export class UnknownControllerError extends Error {}

/** Fresh controllers for the configured names (case-insensitive); an unknown name is an error. */
export function createControllers(names: readonly string[], ctx: ControllerContext = {}): Controller[] {
  return names.map((name) => {
    const f = FACTORIES.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (f === undefined) {
      throw new UnknownControllerError(
        `unknown controller '${name}' (known: ${FACTORIES.map((c) => c.name).join(', ')})`,
      );
    }
    return f.create(ctx);
  });
}
