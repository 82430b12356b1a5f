import {createContext, useContext} from 'react';
import type {EnvironmentStatus, GlobalStatus} from '../domain/index.js';

/** Ink colour names the dashboard uses (a subset of chalk's). */
export type Colour = 'green' | 'yellow' | 'red' | 'blue' | 'magenta' | 'cyan' | 'gray' | 'white';

export type Glyphs = {
	gaugeFull: string;
	gaugeEmpty: string;
	/** Sparkline ramp, lowest first. */
	spark: readonly string[];
	selected: string;
	rule: string;
	separator: string;
	infinity: string;
	lock: string;
	up: string;
	down: string;
	ellipsis: string;
	/** Between the ends of a range: `$2.31–$2.34`. */
	dash: string;
};

const unicode: Glyphs = {
	gaugeFull: '▮',
	gaugeEmpty: '▯',
	spark: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
	selected: '›',
	rule: '─',
	separator: '│',
	infinity: '∞',
	lock: '🔒',
	up: '↑',
	down: '↓',
	ellipsis: '…',
	dash: '–',
};

/** `--ascii`: no box drawing and no block glyphs, for poor fonts and old terminals. */
const ascii: Glyphs = {
	gaugeFull: '#',
	gaugeEmpty: '-',
	spark: ['_', '.', ',', '-', '~', '=', '*', '#'],
	selected: '>',
	rule: '-',
	separator: '|',
	infinity: 'all',
	lock: '[lock]',
	up: 'Up',
	down: 'Dn',
	ellipsis: '~',
	dash: '-',
};

export type Theme = {
	glyphs: Glyphs;
	/** False with NO_COLOR or `--no-color`: every `tone()` is undefined, so nothing is coloured. */
	colour: boolean;
	ascii: boolean;
	/** A colour when colour is on, else undefined (Ink then emits no colour codes at all). */
	tone(colour: Colour): Colour | undefined;
};

export type ThemeOptions = {
	/** @default true */
	colour?: boolean;
	/** @default false */
	ascii?: boolean;
};

export function makeTheme(options: ThemeOptions = {}): Theme {
	const colour = options.colour ?? true;
	const isAscii = options.ascii ?? false;
	return {
		glyphs: isAscii ? ascii : unicode,
		colour,
		ascii: isAscii,
		tone: value => (colour ? value : undefined),
	};
}

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export function colourWanted(env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
	return !noColorFlag && !(env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '');
}

/** Every state has its word, and its colour only reinforces it. */
export const statusColour: Record<EnvironmentStatus | GlobalStatus, Colour> = {
	ACTIVE: 'green',
	LIMITED: 'yellow',
	MONITOR: 'blue',
	NORMAL: 'green',
	WARN: 'yellow',
	BREACH: 'red',
	STOPPED: 'gray',
	STALE: 'magenta',
};

export const ThemeContext = createContext<Theme>(makeTheme());

export function useTheme(): Theme {
	return useContext(ThemeContext);
}
