/**
 * The single executable's entry point, bundled by scripts/package.ts into one
 * CommonJS file (no top-level await there) and embedded in a Node binary.
 */
import { runSea } from './sea-main.js';

runSea();
