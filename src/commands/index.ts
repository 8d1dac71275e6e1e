import type { Command } from '@oclif/core';
import { commands as helpCommands } from '@oclif/plugin-help';

import Allocate from './allocate.js';
import Autoscale from './autoscale.js';
import CheckCerts from './check-certs.js';
import Complete from './complete.js';
import Cordon from './cordon.js';
import Deallocate from './deallocate.js';
import Endpoints from './endpoints.js';
import Install from './install.js';
import List from './list.js';
import Recover from './recover.js';
import Rbac from './rbac.js';
import Rollout from './rollout.js';
import Scale from './scale.js';
import Status from './status.js';
import Tolerations from './tolerations.js';
import Uncordon from './uncordon.js';
import Uninstall from './uninstall.js';
import Version from './version.js';

/**
 * Every command by id: oclif's explicit command map. The npm install and the
 * single executable both use it, because a single executable cannot discover
 * command files on disk. Command modules import only what --help needs; the
 * rest (client-node, helm, output) is loaded inside run().
 */
export const COMMANDS: Record<string, Command.Class> = {
  ...helpCommands,
  __complete: Complete,
  allocate: Allocate,
  autoscale: Autoscale,
  'check-certs': CheckCerts,
  cordon: Cordon,
  deallocate: Deallocate,
  endpoints: Endpoints,
  install: Install,
  list: List,
  rbac: Rbac,
  recover: Recover,
  rollout: Rollout,
  scale: Scale,
  status: Status,
  tolerations: Tolerations,
  uncordon: Uncordon,
  uninstall: Uninstall,
  version: Version,
};
