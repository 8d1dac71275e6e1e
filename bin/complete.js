#!/usr/bin/env node
// kubectl_complete-expose_pods: kubectl's plugin completion (kubectl 1.26+) runs it
// with the plugin's arguments and then the word being completed.
import process from 'node:process';

import { execute } from '@oclif/core';

await execute({ dir: import.meta.url, args: ['__complete', '--', ...process.argv.slice(2)] });
