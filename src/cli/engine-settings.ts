// mom.conf → the engine's settings: shared by the daemon and `momctl simulate`, which run the
// same engine.
import type { MomConfig } from '../config/index.js';
import type { EngineSettings } from '../engine/engine.js';

export function engineSettings(config: MomConfig): EngineSettings {
  const memorySource =
    config.main.hypervisorInterface !== 'simulated' && config.main.hostMemorySource !== null
      ? 'cgroup'
      : 'machine';
  return {
    hostMonitorInterval: config.main.hostMonitorInterval,
    guestMonitorInterval: config.main.guestMonitorInterval,
    guestManagerInterval: config.main.guestManagerInterval,
    policyEngineInterval: config.main.policyEngineInterval,
    mainLoopInterval: config.main.mainLoopInterval,
    sampleHistoryLength: config.main.sampleHistoryLength,
    hostCollectors: config.host.collectors,
    guestCollectors: config.guest.collectors,
    controllers: config.main.controllers,
    balloonStuckTimeout: config.main.balloonStuckTimeout,
    policyFallbackAfter: config.main.policyFallbackAfter,
    contentionPsiFull: config.main.contentionPsiFull,
    contentionAfter: config.main.contentionAfter,
    contentionPause: config.main.contentionPause,
    contentionPauseAfter: config.main.contentionPauseAfter,
    contentionPauseRecord: config.main.contentionPauseRecord,
    guestLimits: config.guests,
    pressureCheckInterval: config.main.pressureCheckInterval,
    pressureWakeFree: config.main.pressureWakeFree,
    memorySource,
    ksmOwned: config.main.ksmOwned === 'auto' ? memorySource === 'machine' : config.main.ksmOwned,
    zswapOwned: config.main.zswapOwned,
  };
}
