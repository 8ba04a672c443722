#!/usr/bin/env node
// The `check-env` command. A file of its own (not the built one) so that a workspace links it at
// install, before the first build; it runs the CLI built into dist/.
import '../dist/check-env.js';
