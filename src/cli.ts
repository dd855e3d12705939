#!/usr/bin/env node
// The entry point. The environment is read here, once, and handed to the commands.
import { main } from './commands/main.js';

const exitCode = await main(process.argv.slice(2), process.env);
// The stdio server keeps running on its open transport; every other command ends here.
if (exitCode !== 0) process.exit(exitCode);
