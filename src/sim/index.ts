// The simulated KVM host: the daemon's built-in backend and the testbed for policies.
export {
  createSimulation,
  HostSimulation,
  type Simulation,
  type SimResults,
  type SimulationOptions,
} from './simulation.js';
export {
  BUILT_IN_SCENARIOS,
  findScenariosDir,
  loadScenario,
  parseScenario,
  ScenarioError,
  type GuestSpec,
  type Scenario,
  type ScenarioInput,
} from './scenario.js';
