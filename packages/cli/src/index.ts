export { main, helpText } from './main.js';
export { COMMANDS } from './commands/index.js';
export type { Command } from './command.js';
