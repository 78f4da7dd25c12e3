/** `pitwall catalog …` (filled in by the catalogue module). */
import type { Command } from '@commander-js/extra-typings';

export function catalogCommands(_program: Command): void {}
