// momd_build_info: always 1, its labels say which momd and which Node.js run.
import { Gauge, type Registry } from 'prom-client';

export function registerBuildInfo(registry: Registry, version: string): void {
  const gauge = new Gauge({
    name: 'momd_build_info',
    help: 'always 1; the labels name the momd version and the Node.js version running it',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  });
  gauge.set({ version, nodejs: process.version }, 1);
}
