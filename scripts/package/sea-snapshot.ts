/**
 * The entry of an experimental single executable with a V8 startup snapshot
 * (package.ts --with-snapshot), built only for bench/startup.ts's comparison
 * and never released; bench/RESULTS.md says why. Every module is loaded when
 * the snapshot is built; the binary starts from that heap and runs runSea.
 */
import v8 from 'node:v8';

import { runSea } from '../../src/sea-main.js';

v8.startupSnapshot.setDeserializeMainFunction(runSea);
