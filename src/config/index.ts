// momd's configuration: oVirt MOM's mom.conf, read into a typed, validated MomConfig.
export {
  CONFIG_KEYS,
  ConfigError,
  DEFAULT_CONFIG_TEXT,
  SECTIONS,
  loadConfig,
  type ConfigKey,
  type ControllerName,
  type GuestCollectorName,
  type HostCollectorName,
  type HypervisorInterface,
  type LoadConfigOptions,
  type ListenAddress,
  type LoadedConfig,
  type MomConfig,
  type SectionName,
  type Verbosity,
} from './config.js';
