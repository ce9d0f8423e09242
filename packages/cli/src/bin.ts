#!/usr/bin/env node
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    // Not a user error: a bug in fer. Show everything.
    console.error(e);
    process.exitCode = 2;
  },
);
